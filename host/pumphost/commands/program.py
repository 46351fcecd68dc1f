from pumphost import units
from pumphost.command import Command, Session
from pumphost.errors import ProtocolError
from pumphost.fields import integer, integer_list, text
from pumphost.schedule import EXAMPLE as FLEX_EXAMPLE
from pumphost.schedule import parse_flex_schedule, wire_flex_steps
from pumphost.status import PumpStatus
from pumphost.twophase import Review, add_yes_option, run_change

REPLY = "PROGRAM"


def _steps(proposal: dict[str, str]) -> list[tuple[str, int, int]]:
    """(HH:MM, ng/day, nL/day) per step, from the review's parallel lists."""
    steps = text(proposal, "steps_ng_day", REPLY).split(",")
    rates = integer_list(proposal, "rates_nl_day", REPLY)
    if len(steps) != len(rates):
        raise ProtocolError("PROGRAM review lists a different number of doses and rates")
    out = []
    for step, rate in zip(steps, rates, strict=True):
        at, _, dose = step.partition("@")
        if not dose.isdigit():
            raise ProtocolError(f"PROGRAM review has a malformed step {step!r}")
        out.append((at, int(dose), rate))
    return out


def describe(before: PumpStatus, proposal: dict[str, str]) -> Review:
    kind = text(proposal, "program", REPLY)
    conc = integer(proposal, "conc_mcg_ml", REPLY)
    total_ng = integer(proposal, "total_ng_day", REPLY)
    total_nl = integer(proposal, "total_nl_day", REPLY)
    state_after = text(proposal, "state_after", REPLY)
    steps = _steps(proposal)
    programmed = before.total_ng_day is not None and before.total_nl_day is not None
    rows = [
        ("program", before.program, kind),
        (
            "concentration",
            units.format_concentration(before.prog_conc_mcg_ml) if programmed else "-",
            units.format_concentration(conc),
        ),
        (
            "daily dose (24 h)",
            units.format_daily_dose(before.total_ng_day or 0) if programmed else "-",
            units.format_daily_dose(total_ng),
        ),
        (
            "volume rate (24-h mean)",
            units.format_rate(before.total_nl_day or 0) if programmed else "-",
            units.format_rate(total_nl),
        ),
    ]
    if kind == "FLEX":
        rows += [
            (
                f"from {at}",
                "-",
                f"{units.format_daily_dose(dose)} = {units.format_rate(rate)}",
            )
            for at, dose, rate in steps
        ]
    rows.append(("state", before.state, state_after))
    if "override" in proposal:
        rows.append(("titration override", "-", proposal["override"]))
    data = {
        "change": "PROGRAM",
        "program": kind,
        "concentration_mcg_per_ml": conc,
        "steps": [
            {
                "from": at,
                "dose_mcg_per_day": float(units.daily_dose_mcg(dose)),
                "rate_ml_per_day": float(units.volume_ml(rate)),
                "rate_ul_per_hour": float(units.rate_ul_per_hour(rate)),
            }
            for at, dose, rate in steps
        ],
        "total_dose_mcg_per_day": float(units.daily_dose_mcg(total_ng)),
        "total_rate_ml_per_day": float(units.volume_ml(total_nl)),
        "total_rate_ul_per_hour": float(units.rate_ul_per_hour(total_nl)),
        "state_after": state_after,
        "override": proposal.get("override"),
    }
    return Review("PROGRAM", rows, data)


def run(args, session: Session) -> int:
    # Everything typed is checked before the port is opened: a typo sends nothing.
    conc = units.wire_concentration(units.parse_concentration(args.conc))
    # argparse requires exactly one of --dose and --flex.
    if args.flex is None:
        words = ("CONT",)
        wire_args = {"dose": units.wire_daily_dose(units.parse_daily_dose(args.dose))}
    else:
        words = ("FLEX",)
        wire_args = {"steps": wire_flex_steps(parse_flex_schedule(args.flex))}
    if args.override:
        wire_args["override"] = args.override
    return run_change(args, session, "PROGRAM", words, {**wire_args, "conc": conc}, describe)


def add_arguments(parser) -> None:
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--dose", metavar="DOSE", help="continuous: daily dose spread over 24 h, e.g. 150mcg/day"
    )
    kind.add_argument(
        "--flex",
        metavar="SCHEDULE",
        help=f"flex: up to 13 steps HH:MM=<daily dose>, repeating daily, e.g. {FLEX_EXAMPLE}",
    )
    parser.add_argument(
        "--conc",
        required=True,
        metavar="CONC",
        help="concentration in the reservoir, e.g. 500mcg/mL",
    )
    parser.add_argument(
        "--override",
        metavar="REASON",
        help="allow a dose increase above the titration step, recording why",
    )
    add_yes_option(parser)


COMMAND = Command(
    name="program",
    summary="set the basal programme (continuous or flex), after a side-by-side review",
    examples="""\
The device answers with the complete new programme (doses, mL/day and uL/h
rates, 24-h totals); nothing changes until you confirm.

examples:
  pumpctl program --dose 150mcg/day --conc 500mcg/mL
  pumpctl program --flex "00:00=100mcg/day,06:00=150mcg/day,18:00=120mcg/day" \\
                  --conc 500mcg/mL
  pumpctl program --dose 150mcg/day --conc 500mcg/mL --yes --json   # scripts
""",
    run=run,
    add_arguments=add_arguments,
)
