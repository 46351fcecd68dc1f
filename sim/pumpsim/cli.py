"""`pump-sim`: run the simulator in the foreground until SIGINT/SIGTERM or the
rig's shutdown command."""

import argparse
import datetime
import signal
import sys
import threading
from pathlib import Path

from pumphost.discovery import sim_info_path

from . import __version__
from .clock import DEFAULT_EPOCH_S
from .runtime import DEFAULT_FIRMWARE_DIR, RUNTIMES
from .simulator import Simulator


def _epoch(text):
    """Seconds since 1970 as an integer, or an ISO 8601 date/time (UTC unless it says)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an integer or ISO 8601 date/time: {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return int(when.timestamp())


def _speed(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("speed must be a positive number")
    return value


def build_parser():
    p = argparse.ArgumentParser(
        prog="pump-sim",
        description="Run the pump firmware on a simulated board: virtual clock, physical "
        "plant (stepper, lead screw, syringe), a pseudo-terminal serial port and a rig "
        "control channel (JSON lines over TCP, see docs/rig.md). Runs until SIGINT, "
        "SIGTERM or the rig's shutdown command.",
    )
    p.add_argument("--version", action="version", version="pump-sim " + __version__)
    p.add_argument(
        "--firmware",
        metavar="DIR",
        default=str(DEFAULT_FIRMWARE_DIR),
        help="firmware directory holding main.py, as copied to a board (default: %(default)s)",
    )
    p.add_argument(
        "--runtime",
        choices=sorted(RUNTIMES),
        default="cpython",
        help="how the firmware is executed (default: %(default)s)",
    )
    p.add_argument(
        "--romfs",
        action="store_true",
        help="with --runtime micropython: build a ROMFS image of the firmware directory "
        "(mpremote romfs build) and run from it, mounted at /rom as a board's ROMFS "
        "partition, so bytecode stays out of the VM heap",
    )
    p.add_argument(
        "--flash",
        metavar="DIR",
        help="directory mirroring the MCU flash filesystem; existing files are "
        "loaded at start and kept (default: a fresh temporary directory, removed on exit)",
    )
    timing = p.add_mutually_exclusive_group()
    timing.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="N",
        help="virtual time runs N times faster than wall time (default: 1, real time)",
    )
    timing.add_argument(
        "--stepped",
        action="store_true",
        help="virtual time moves only when the rig's advance command says so",
    )
    p.add_argument(
        "--epoch",
        type=_epoch,
        default=DEFAULT_EPOCH_S,
        metavar="WHEN",
        help="device clock (RTC) at start, seconds since 1970 or ISO 8601 "
        "(default: 2025-01-01T00:00:00Z)",
    )
    p.add_argument(
        "--delivery-log",
        metavar="FILE",
        help="write the plant's ground truth as CSV t_s,microsteps,delivered_ul, "
        "one row per microstep the plunger moved",
    )
    p.add_argument(
        "--plant-error-ppm",
        type=int,
        default=0,
        metavar="PPM",
        help="plant delivers this many parts per million more (or, negative, "
        "less) than its mechanics say (default: 0)",
    )
    p.add_argument(
        "--rig-port",
        type=int,
        default=0,
        metavar="PORT",
        help="TCP port of the rig channel on 127.0.0.1 (default: 0, any free port)",
    )
    p.add_argument(
        "--fleet",
        type=int,
        default=0,
        metavar="N",
        help="run N independent pumps (own pty, rig channel and flash each; with --flash, "
        "DIR/pump-<i>); the info file then lists them all (default: fleet.json)",
    )
    p.add_argument(
        "--info-file",
        metavar="PATH",
        default=None,
        help=f"where to announce the pty and rig address as JSON (default: {sim_info_path()})",
    )
    return p


def _runtime(args):
    return args.runtime + (", romfs" if args.romfs else "")


def _sim_options(args):
    """The Simulator options a single simulator and every pump of a fleet share."""
    return {
        "firmware_dir": args.firmware,
        "speed": args.speed,
        "stepped": args.stepped,
        "epoch_s": args.epoch,
        "runtime": args.runtime,
        "plant_error_ppm": args.plant_error_ppm,
        "romfs": args.romfs,
    }


def _start(make):
    """`make()` started, or None after saying on stderr why it could not be."""
    try:
        return make().start()
    except (OSError, ImportError, ValueError) as exc:
        print(f"pump-sim: {exc}", file=sys.stderr)
        return None


def _fleet(args):
    """`--fleet N`: N pumps, one line each, one info file listing them."""
    from .fleet import Fleet

    info_file = Path(args.info_file) if args.info_file else sim_info_path().with_name("fleet.json")
    fleet = _start(lambda: Fleet(args.fleet, flash_root=args.flash, **_sim_options(args)))
    if fleet is None:
        return 2
    fleet.write_info(info_file)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mode = "stepped" if args.stepped else f"x{args.speed:g}"
    print(f"pump-sim {__version__}: fleet of {args.fleet} ({_runtime(args)}), {mode}")
    for pump in fleet.info()["pumps"]:
        print(f"pump {pump['index']}: serial {pump['pty']} rig {pump['rig']}")
    print(f"info: {info_file}", flush=True)
    # ends on a signal, or once every pump was shut down through its rig channel
    while not stop.wait(0.5) and not all(s.stopped.is_set() for s in fleet.sims):
        pass
    fleet.stop()
    info_file.unlink(missing_ok=True)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # `pump-sim bench accuracy`: a benchmark, not a simulator
        from .benchmarks.cli import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.romfs and args.runtime != "micropython":
        print("pump-sim: --romfs needs --runtime micropython", file=sys.stderr)
        return 2
    if args.fleet:
        if args.delivery_log or args.rig_port:
            print("pump-sim: --fleet takes neither --delivery-log nor --rig-port", file=sys.stderr)
            return 2
        return _fleet(args)
    info_file = args.info_file or sim_info_path()
    sim = _start(
        lambda: Simulator(
            flash_dir=args.flash,
            delivery_log=args.delivery_log,
            rig_port=args.rig_port,
            info_file=info_file,
            **_sim_options(args),
        )
    )
    if sim is None:
        return 2

    def on_signal(signum, frame):
        sim.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    mode = sim.machine.mode() + ("" if args.stepped else f" x{args.speed:g}")
    print(f"pump-sim {__version__}: firmware {sim.firmware_dir} ({_runtime(args)}), {mode}")
    print(f"serial: {sim.pty_path}")
    print(f"rig: {sim.rig_address}")
    print(f"info: {info_file}", flush=True)
    while not sim.stopped.wait(0.5):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
