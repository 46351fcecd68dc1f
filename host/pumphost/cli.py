"""`pumpctl`: the technician's command-line tool (docs/pumpctl.md).

Every expected failure ends as one line on stderr and an exit code from
exitcodes.py; a traceback means a bug in pumpctl.
"""

import argparse
import math
import os
import sys

from pumphost import hostconfig
from pumphost.auth import ROLES
from pumphost.client import DEFAULT_TIMEOUT_S
from pumphost.command import Session
from pumphost.commands import COMMANDS
from pumphost.errors import PumpHostError
from pumphost.exitcodes import ExitCode, exit_code_for
from pumphost.ports import SIMULATOR

PORT_ENV = "PUMP_PORT"

_EPILOG = f"""\
ports:
  sim            the running simulator (pump-sim), the default
  auto           the one supported board plugged in over USB
  /dev/ttyACM0   a serial device path (COM3 on Windows)
  socket://host:port, loop://, ...   any pyserial URL
  The default is ${PORT_ENV} if set, else port in the configuration file, else sim.

configuration file (flags and ${PORT_ENV} override it):
  $XDG_CONFIG_HOME/pumpctl/config.toml (default ~/.config/pumpctl/config.toml;
  %APPDATA%\\pumpctl\\config.toml on Windows). TOML keys, all optional:
    port = "/dev/ttyACM0"     timeout = 5
    user = "alice"            role = "tech"   # defaults of `pumpctl login`
    keys = "~/pump-keys"      # key store folder (default: <config>/pumpctl/keys)

exit codes:
  {ExitCode.OK:<3} ok
  {ExitCode.DEVICE_REFUSED:<3} the device refused the request (ERR); nothing changed
  {ExitCode.USAGE:<3} bad command line or value; nothing was sent
  {ExitCode.PORT_UNAVAILABLE:<3} port missing, busy, not permitted, or lost
  {ExitCode.NO_ANSWER:<3} no answer from the device in time
  {ExitCode.PROTOCOL:<3} garbled answer, or a device speaking another protocol version
  {ExitCode.DECLINED:<3} answered no at a confirmation; CANCEL sent, nothing changed
  {ExitCode.INTERRUPTED:<3} interrupted (Ctrl-C); a pending change was cancelled

examples:
  pumpctl ports
  pumpctl status
  pumpctl --port /dev/ttyACM0 status --json
  pumpctl program --dose 150mcg/day --conc 500mcg/mL
  pumpctl refill --aspirated 3.1mL --add 18mL --conc 500mcg/mL --yes
  pumpctl --login tech stop --reason "MRI scan"   # log in and stop, one run
  pumpctl watch
  pumpctl <command> --help
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, like every other pumpctl failure, and the usage exit code.
        self.exit(ExitCode.USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _add_global_options(parser: argparse.ArgumentParser, defaults: dict | None) -> None:
    """Global options are accepted before and after the subcommand.

    Only the top-level parser carries defaults; on subcommands they are suppressed
    so an option given before the subcommand is not overwritten by its default.
    """

    def default(name: str):
        return argparse.SUPPRESS if defaults is None else defaults[name]

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--port",
        default=default("port"),
        help=f"sim, auto, a serial device or a pyserial URL (default: ${PORT_ENV}, else port "
        "in the configuration file, else sim)",
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=default("timeout"),
        metavar="SECONDS",
        help=f"how long to wait for each answer (default: {DEFAULT_TIMEOUT_S:g})",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default("json"),
        help="print machine-readable JSON instead of tables",
    )
    group.add_argument(
        "--login",
        choices=ROLES,
        default=default("login"),
        metavar="ROLE",
        help="log in as tech or eng with your stored key before the command (default: "
        "use the session already open on the device)",
    )


def build_parser(
    environ: dict[str, str], config: hostconfig.HostConfig | None = None
) -> argparse.ArgumentParser:
    config = config or hostconfig.HostConfig()
    parser = _Parser(
        prog="pumpctl",
        description="Talk to an intrathecal syringe pump (board or simulator) over serial.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_options(
        parser,
        {
            "port": environ.get(PORT_ENV) or config.port or SIMULATOR,
            "timeout": config.timeout or DEFAULT_TIMEOUT_S,
            "json": False,
            "login": None,
        },
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=command.examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        _add_global_options(sub, None)
        sub.set_defaults(command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    environ = dict(os.environ)
    try:
        config = hostconfig.load(environ)
    except PumpHostError as error:
        print(f"pumpctl: {' '.join(str(error).split())}", file=sys.stderr)
        return exit_code_for(error)
    args = build_parser(environ, config).parse_args(argv)
    session = Session(
        port=args.port,
        timeout=args.timeout,
        json=args.json,
        login=args.login,
        user=config.user,
        keys=config.keys,
        role=config.role,
    )
    try:
        return int(args.command.run(args, session))
    except PumpHostError as error:
        print(f"pumpctl: {' '.join(str(error).split())}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        print("pumpctl: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
