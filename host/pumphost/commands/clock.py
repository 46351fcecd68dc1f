from pumphost import devicetime
from pumphost.client import PumpClient
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.fields import integer
from pumphost.render import key_value_table

SHOW = "show"
SET = "set"


def _device_rtc(pump: PumpClient, *words: str, **args: int) -> int:
    return integer(pump.request("CLOCK", *words, **args).fields, "rtc_s", "CLOCK")


def _offset_text(offset_s: int) -> str:
    if offset_s == 0:
        return "0 s (in step)"
    return f"{offset_s:+d} s (device {'ahead of' if offset_s > 0 else 'behind'} host)"


def _report(
    session: Session, title: str, device_rtc: int, host_rtc: int, previous_rtc: int | None = None
) -> None:
    offset = device_rtc - host_rtc
    if session.json:
        data: dict = {
            "device_time": devicetime.iso_device_time(device_rtc),
            "host_time": devicetime.iso_device_time(host_rtc),
            "offset_s": offset,
        }
        if previous_rtc is not None:
            data["previous_device_time"] = devicetime.iso_device_time(previous_rtc)
        session.print_json(data)
        return
    rows = [
        ("device clock", devicetime.format_device_time(device_rtc)),
        ("host clock", devicetime.format_device_time(host_rtc)),
        ("offset", _offset_text(offset)),
    ]
    if previous_rtc is not None:
        rows.append(("device clock before", devicetime.format_device_time(previous_rtc)))
    session.console.print(key_value_table(title, rows))


def run(args, session: Session) -> int:
    with session.connect() as pump:
        if args.action == SHOW:
            device = _device_rtc(pump)
            host = devicetime.host_local_seconds()
            _report(session, "Clocks (local time)", device, host)
            return ExitCode.OK
        before = _device_rtc(pump)
        device = _device_rtc(pump, "SET", rtc_s=devicetime.host_local_seconds())
        host = devicetime.host_local_seconds()
    _report(session, "Device clock set (local time)", device, host, before)
    return ExitCode.OK


def add_arguments(parser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=(SHOW, SET),
        default=SHOW,
        help="show device and host clocks (default), or set the device to the host's time",
    )


COMMAND = Command(
    name="clock",
    summary="show the device clock against the host's, or set it from the host",
    examples="""\
The device keeps local time (flex steps follow the time of day), counted as
Unix seconds; `clock set` sends the host's time plus its current UTC offset.
The offset shown is device minus host, in seconds.

examples:
  pumpctl clock
  pumpctl clock --json          # device_time, host_time, offset_s
  pumpctl clock set
""",
    run=run,
    add_arguments=add_arguments,
)
