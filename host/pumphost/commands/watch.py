import argparse
import json
import time

from rich.live import Live

from pumphost.alarms import Alarm
from pumphost.client import PumpClient
from pumphost.command import Command, Session
from pumphost.errors import PortUnavailable, ProtocolError, PumpTimeout
from pumphost.exitcodes import ExitCode
from pumphost.watchview import WatchView

# A board that resets or is unplugged shows up as one of these; each means
# "reopen the port", never "give up": watching is meant to outlast them.
_LOST = (PortUnavailable, PumpTimeout, ProtocolError)


def _poll(session: Session, view: WatchView, pump: PumpClient | None) -> PumpClient | None:
    """One refresh; returns the client to use next time (None: reconnect)."""
    try:
        if pump is None:
            # re-resolves sim/auto: a replugged board may come back on another path
            pump = session.connect(on_unsolicited=view.saw)
            view.opened(pump.port)
        status = pump.status()
        alarms = [Alarm.from_fields(row.fields) for row in pump.request("ALARMS").rows]
        view.update(status, alarms)
    except _LOST as error:
        if pump is not None:
            pump.close()
        view.reconnecting(str(error))
        return None
    if view.device_restarted:
        # After a reset the firmware may be another build: identify it afresh.
        view.device_restarted = False
        pump.close()
        view.reconnecting("device restarted")
        return None
    return pump


def run(args, session: Session) -> int:
    view = WatchView(session.port)
    pump = None
    refreshes = 0
    try:
        if session.json:
            while args.count is None or refreshes < args.count:
                pump = _poll(session, view, pump)
                print(json.dumps(view.as_json()), flush=True)
                refreshes += 1
                if args.count is None or refreshes < args.count:
                    time.sleep(args.interval)
            return ExitCode.OK
        with Live(view.render(), console=session.console, auto_refresh=False) as live:
            while args.count is None or refreshes < args.count:
                pump = _poll(session, view, pump)
                live.update(view.render(), refresh=True)
                refreshes += 1
                if args.count is None or refreshes < args.count:
                    time.sleep(args.interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how watching ends: not a failure
    finally:
        if pump is not None:
            pump.close()
    return ExitCode.OK


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0.1 to 3600 seconds")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number above 0")
    return int(text)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--interval",
        type=_interval,
        default=1.0,
        metavar="SECONDS",
        help="time between refreshes (default 1)",
    )
    parser.add_argument(
        "--count", type=_count, default=None, metavar="N", help="stop after N refreshes"
    )


COMMAND = Command(
    name="watch",
    summary="live status, alarms and device events, refreshing until Ctrl-C",
    examples="""\
Survives a board reset or replug: on a lost port, a timeout, a garbled line or
a restart reported by the device, it shows "reconnecting..." and reopens the
port (re-resolving --port sim or auto) until the device answers again, then
says when it reconnected. Ctrl-C ends it with exit 0. With --json: one JSON
object per line per refresh: time, port, connected, note, status (the keys of
status --json, null while disconnected), alarms (as alarms --json), events
(unsolicited lines since the previous object).

examples:
  pumpctl watch
  pumpctl watch --interval 5
  pumpctl watch --json --count 3
""",
    run=run,
    add_arguments=add_arguments,
)
