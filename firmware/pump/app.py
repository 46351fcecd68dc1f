# The command table: which handler answers which verb. Kept apart from main.py so
# tests and the simulator build the same controller the board runs.
from pump.auth_cmds import HANDLERS as AUTH_HANDLERS
from pump.commands import HANDLERS
from pump.config_cmds import HANDLERS as CONFIG_HANDLERS
from pump.controller import Controller
from pump.refill import cmd_refill


def handlers():
    table = dict(HANDLERS)
    table["REFILL"] = cmd_refill
    table.update(AUTH_HANDLERS)
    table.update(CONFIG_HANDLERS)
    return table


def make_controller(hal):
    return Controller(hal, handlers())
