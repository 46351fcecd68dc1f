import argparse

from pumphost.alarms import Alarm
from pumphost.client import PumpClient
from pumphost.command import Command, Session
from pumphost.errors import BadInput
from pumphost.exitcodes import ExitCode
from pumphost.render import alarm_table

LIST = "list"
ACK = "ack"


def _active(pump: PumpClient) -> list[Alarm]:
    return [Alarm.from_fields(row.fields) for row in pump.request("ALARMS").rows]


def _list(session: Session) -> int:
    with session.connect() as pump:
        alarms = _active(pump)
    if session.json:
        session.print_json([alarm.as_json() for alarm in alarms])
    elif alarms:
        session.console.print(alarm_table(alarms))
    else:
        session.console.print("No active alarms.")
    return ExitCode.OK


def _ack(session: Session, alarm_id: int) -> int:
    with session.connect() as pump:
        acked = Alarm.from_fields(pump.request("ACK", id=alarm_id).fields)
        # ACK clears a latched alarm but only silences one whose condition holds:
        # the list afterwards says which this was.
        still_active = any(alarm.id == acked.id for alarm in _active(pump))
    if session.json:
        session.print_json({**acked.as_json(), "still_active": still_active})
    elif still_active:
        session.console.print(
            f"Alarm {acked.id} {acked.code} acknowledged: silenced, and still listed "
            "while its condition holds."
        )
    else:
        session.console.print(f"Alarm {acked.id} {acked.code} acknowledged and cleared.")
    return ExitCode.OK


def run(args, session: Session) -> int:
    if args.action == ACK:
        if args.alarm_id is None:
            raise BadInput("E_ARG", "alarms ack needs the alarm id, e.g. pumpctl alarms ack 3")
        return _ack(session, args.alarm_id)
    if args.alarm_id is not None:
        raise BadInput("E_ARG", "an alarm id goes with ack: pumpctl alarms ack ID")
    return _list(session)


def _alarm_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an alarm id (a whole number)")
    return int(text)


def add_arguments(parser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=(LIST, ACK),
        default=LIST,
        help="list the active alarms (default), or acknowledge one",
    )
    parser.add_argument("alarm_id", nargs="?", type=_alarm_id, metavar="ID", help="alarm to ack")


COMMAND = Command(
    name="alarms",
    summary="list active alarms, or acknowledge one (ack ID)",
    examples="""\
Acknowledging silences an alarm whose condition still holds (it stays listed)
and clears a latched one (restart, refill window expired).

examples:
  pumpctl alarms                # table: id, priority, code, acked, since, message
  pumpctl alarms --json
  pumpctl alarms ack 3
""",
    run=run,
    add_arguments=add_arguments,
)
