"""start, stop, pause, resume: one verb each, the same two-phase exchange."""

from pumphost import units
from pumphost.command import Command, Session
from pumphost.fields import text
from pumphost.status import PumpStatus
from pumphost.twophase import Review, add_yes_option, run_change


def _describe_for(change: str):
    def describe(before: PumpStatus, proposal: dict[str, str]) -> Review:
        state_after = text(proposal, "state_after", change)
        reason = text(proposal, "reason", change)
        bolus_cancelled = proposal.get("bolus") == "cancelled"
        delivering = state_after == "RUNNING"
        rows = [
            ("state", before.state, state_after),
            ("reason", before.reason or "-", reason),
            (
                "daily dose",
                units.format_daily_dose(before.dose_ng_day if before.rate_nl_day else 0),
                units.format_daily_dose(before.dose_ng_day if delivering else 0),
            ),
        ]
        if before.bolus_ng:
            rows.append(
                (
                    "bolus",
                    f"{units.format_dose(before.bolus_ng)} running",
                    "cancelled" if bolus_cancelled else "continues",
                )
            )
        data = {
            "change": change,
            "state_after": state_after,
            "reason": reason,
            "bolus_cancelled": bolus_cancelled,
        }
        return Review(change, rows, data)

    return describe


def _command(change: str, summary: str, reason_required: bool, examples: str) -> Command:
    def run(args, session: Session) -> int:
        wire_args = {"reason": args.reason} if args.reason else {}
        return run_change(args, session, change, (), wire_args, _describe_for(change))

    def add_arguments(parser) -> None:
        parser.add_argument(
            "--reason",
            required=reason_required,
            metavar="TEXT",
            help="why, recorded in the device's event log"
            + ("" if reason_required else " (optional)"),
        )
        add_yes_option(parser)

    return Command(
        name=change.lower(),
        summary=summary,
        examples=examples,
        run=run,
        add_arguments=add_arguments,
    )


START = _command(
    "START",
    "start the programmed therapy from STOPPED, after a review",
    False,
    """\
examples:
  pumpctl start
  pumpctl start --reason "initial programme after screening" --yes
""",
)
STOP = _command(
    "STOP",
    "stop therapy (alarmed: the patient receives no drug), after a review",
    True,
    """\
Stopping cancels a running bolus; volume not delivered is not made up later.

examples:
  pumpctl stop --reason "explant scheduled"
""",
)
PAUSE = _command(
    "PAUSE",
    "pause therapy while RUNNING, after a review",
    True,
    """\
examples:
  pumpctl pause --reason "MRI scan"
""",
)
RESUME = _command(
    "RESUME",
    "resume paused therapy, after a review",
    False,
    """\
examples:
  pumpctl resume
  pumpctl resume --reason "MRI done" --yes
""",
)
