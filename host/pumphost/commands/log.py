import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from pumphost import logexport
from pumphost.command import Command, Session
from pumphost.errors import BadInput
from pumphost.exitcodes import ExitCode


def run(args, session: Session) -> int:
    first = logexport.parse_when(args.since_time) if args.since_time else None
    last = logexport.parse_when(args.until_time) if args.until_time else None
    if first is not None and last is not None and first > last:
        raise BadInput("E_RANGE", "--from is after --to")
    fmt = "json" if session.json else args.format
    # Progress goes to stderr, so it never mixes with an export on stdout; rich
    # shows nothing animated when stderr is not a terminal.
    with (
        Progress(
            TextColumn("downloading log"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress,
        session.connect() as pump,
    ):
        task = progress.add_task("log", total=None)

        def show(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        entries = list(logexport.fetch(pump, first, last, show))
    text = logexport.to_json(entries) if fmt == "json" else logexport.to_csv(entries)
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as error:
        raise BadInput("E_OUTPUT", f"cannot write {args.output}: {error.strerror}") from None
    print(f"pumpctl: {len(entries)} entries written to {args.output}", file=sys.stderr)
    return ExitCode.OK


def add_arguments(parser) -> None:
    parser.add_argument(
        "--from",
        dest="since_time",
        metavar="WHEN",
        help="first entry time: device local date-time (2026-03-01 or "
        "'2026-03-01 14:30') or Unix seconds",
    )
    parser.add_argument(
        "--to", dest="until_time", metavar="WHEN", help="last entry time, same forms as --from"
    )
    parser.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="export format (default csv)"
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")


COMMAND = Command(
    name="log",
    summary="export the device's event log as CSV or JSON, optionally a time range",
    examples="""\
Downloads every entry (200 per request) with a progress bar on stderr. CSV
columns: seq, rtc_s, time (device local, ISO 8601), event, details (key=value
...). JSON (--format json or --json): a list of objects with seq, rtc_s, time,
event, fields.

examples:
  pumpctl log                                   # CSV on stdout
  pumpctl log --from "2026-03-01 08:00" --to "2026-03-02" -o march.csv
  pumpctl log --json --from 1767225600          # Unix seconds (device clock)
""",
    run=run,
    add_arguments=add_arguments,
)
