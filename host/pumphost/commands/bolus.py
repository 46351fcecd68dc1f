from pumphost import units
from pumphost.command import Command, Session
from pumphost.fields import integer, text
from pumphost.status import PumpStatus
from pumphost.twophase import Review, add_yes_option, run_change

REPLY = "BOLUS"


def describe(before: PumpStatus, proposal: dict[str, str]) -> Review:
    dose = integer(proposal, "dose_ng", REPLY)
    volume = integer(proposal, "volume_nl", REPLY)
    over = integer(proposal, "over_ms", REPLY)
    conc = integer(proposal, "conc_mcg_ml", REPLY)
    basal = text(proposal, "basal", REPLY)
    rate = units.rate_nl_per_day(volume, over)
    running = f"{units.format_dose(before.bolus_ng)} running" if before.bolus_ng else "none"
    rows = [
        ("bolus dose", running, units.format_dose(dose)),
        ("bolus volume", "-", units.format_volume(volume)),
        ("over", "-", units.format_duration(over)),
        ("bolus rate", "-", units.format_rate(rate)),
        (
            "concentration",
            units.format_concentration(before.conc_mcg_ml),
            units.format_concentration(conc),
        ),
        ("basal rate", units.format_rate(before.rate_nl_day), basal),
    ]
    data = {
        "change": "BOLUS",
        "dose_mcg": float(units.dose_mcg(dose)),
        "volume_ml": float(units.volume_ml(volume)),
        "over_s": over / units.MS_PER_S,
        "rate_ml_per_day": float(units.volume_ml(rate)),
        "rate_ul_per_hour": float(units.rate_ul_per_hour(rate)),
        "concentration_mcg_per_ml": conc,
        "basal": basal,
    }
    return Review("BOLUS", rows, data)


def run(args, session: Session) -> int:
    wire_args = {
        "dose": units.wire_dose(units.parse_dose(args.dose)),
        "over": units.wire_duration(units.parse_duration(args.over)),
    }
    return run_change(args, session, "BOLUS", (), wire_args, describe)


def add_arguments(parser) -> None:
    parser.add_argument("--dose", required=True, metavar="DOSE", help="bolus dose, e.g. 50mcg")
    parser.add_argument(
        "--over",
        required=True,
        metavar="DURATION",
        help="delivered evenly over this time, at least 1min (labelling), e.g. 1min, 90s",
    )
    add_yes_option(parser)


COMMAND = Command(
    name="bolus",
    summary="give a single bolus on top of the basal programme, after a review",
    examples="""\
At the reservoir's concentration; the basal programme continues unchanged. A
screening test dose (50, 75, 100 mcg) can be given while stopped.

examples:
  pumpctl bolus --dose 50mcg --over 1min
  pumpctl bolus --dose 75mcg --over 2min --yes
""",
    run=run,
    add_arguments=add_arguments,
)
