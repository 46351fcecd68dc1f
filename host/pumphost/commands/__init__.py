"""The table of pumpctl subcommands, in the order `pumpctl --help` lists them."""

from pumphost.commands import identify, ports, status

COMMANDS = (
    ports.COMMAND,
    identify.COMMAND,
    status.COMMAND,
)
