"""The table of pumpctl subcommands, in the order `pumpctl --help` lists them."""

from pumphost.commands import (
    alarms,
    bolus,
    clock,
    identify,
    login,
    logout,
    ports,
    prime,
    program,
    provision,
    refill,
    runstate,
    status,
)

COMMANDS = (
    ports.COMMAND,
    identify.COMMAND,
    status.COMMAND,
    program.COMMAND,
    bolus.COMMAND,
    prime.COMMAND,
    runstate.START,
    runstate.STOP,
    runstate.PAUSE,
    runstate.RESUME,
    refill.COMMAND,
    alarms.COMMAND,
    clock.COMMAND,
    login.COMMAND,
    logout.COMMAND,
    provision.COMMAND,
)
