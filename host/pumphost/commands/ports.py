from rich.table import Table

from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.ports import list_candidates


def run(args, session: Session) -> int:
    candidates = list_candidates()
    if session.json:
        session.print_json([candidate.as_json() for candidate in candidates])
        return ExitCode.OK
    if not candidates:
        session.console.print("No simulator running and no pump board plugged in.")
        return ExitCode.OK
    table = Table(title="Serial ports that may be pumps", title_justify="left")
    for column in ("port", "kind", "USB VID:PID", "description"):
        table.add_column(column)
    for candidate in candidates:
        table.add_row(
            candidate.port, candidate.kind, candidate.usb_id or "-", candidate.description
        )
    session.console.print(table)
    return ExitCode.OK


COMMAND = Command(
    name="ports",
    summary="list the running simulator and plugged-in boards that may be pumps",
    examples="""\
examples:
  pumpctl ports              # table of candidate ports
  pumpctl ports --json       # [{"port": ..., "kind": ..., "usb_id": ..., "description": ...}]
""",
    run=run,
)
