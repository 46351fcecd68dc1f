from pumphost import units
from pumphost.command import Command, Session
from pumphost.fields import integer, text
from pumphost.status import PumpStatus
from pumphost.twophase import Review, add_yes_option, run_change

REPLY = "PRIME"


def describe(before: PumpStatus, proposal: dict[str, str]) -> Review:
    volume = integer(proposal, "volume_nl", REPLY)
    over = integer(proposal, "over_ms", REPLY)
    state_after = text(proposal, "state_after", REPLY)
    rate = units.rate_nl_per_day(volume, over)
    rows = [
        ("priming volume", "-", units.format_volume(volume)),
        ("over", "-", units.format_duration(over)),
        ("priming rate", "-", units.format_rate(rate)),
        (
            "reservoir",
            units.format_volume(before.reservoir_nl),
            units.format_volume(before.reservoir_nl - volume),
        ),
        ("state", before.state, f"{state_after}, then STOPPED"),
    ]
    data = {
        "change": "PRIME",
        "volume_ml": float(units.volume_ml(volume)),
        "over_s": over / units.MS_PER_S,
        "rate_ml_per_day": float(units.volume_ml(rate)),
        "rate_ul_per_hour": float(units.rate_ul_per_hour(rate)),
        "state_after": state_after,
    }
    return Review("PRIME", rows, data)


def run(args, session: Session) -> int:
    wire_args = {"vol": units.wire_volume(units.parse_volume(args.vol))}
    return run_change(args, session, "PRIME", (), wire_args, describe)


def add_arguments(parser) -> None:
    parser.add_argument(
        "--vol",
        required=True,
        metavar="VOLUME",
        help="catheter plus pump dead volume, at most 2mL, e.g. 0.2mL",
    )
    add_yes_option(parser)


COMMAND = Command(
    name="prime",
    summary="prime the catheter (fast bolus of a volume) while stopped, after a review",
    examples="""\
Runs at 1 mL/min; the pump is PRIMING until done, then STOPPED.

examples:
  pumpctl prime --vol 0.2mL
  pumpctl prime --vol 250uL --yes
""",
    run=run,
    add_arguments=add_arguments,
)
