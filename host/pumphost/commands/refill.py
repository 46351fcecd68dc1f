"""pumpctl refill: the refill procedure with septum-access confirmation.

The device decides every step (docs/protocol.md, REFILL); pumpctl asks, shows
and relays. Once REFILL BEGIN is accepted, any refusal, a "no" or Ctrl-C sends
REFILL ABORT, after which reservoir and therapy are exactly as before BEGIN.
"""

from dataclasses import dataclass

from pumphost import prompt, units
from pumphost.client import PumpClient
from pumphost.command import Command, Session
from pumphost.devicetime import format_device_time, iso_device_time
from pumphost.errors import BadInput, Interrupted, PumpError, PumpHostError
from pumphost.exitcodes import ExitCode
from pumphost.fields import NEVER, integer, integer_or_never, text
from pumphost.render import key_value_table
from pumphost.status import PumpStatus
from pumphost.statusview import status_table
from pumphost.twophase import Review, add_yes_option, require_a_way_to_confirm, settle

UNCHANGED = "reservoir and therapy are exactly as before REFILL BEGIN"
BEGIN, ASPIRATED, FILL = "REFILL BEGIN", "REFILL ASPIRATED", "REFILL FILL"


@dataclass(frozen=True)
class Entries:
    """What the flags gave, in device units; None means ask at the terminal."""

    aspirated_nl: int | None
    probe_nl: int | None
    back_nl: int | None
    add_nl: int | None
    conc: int | None
    conc2: int | None
    window_ms: int | None


def _optional(parse, value: str | None) -> int | None:
    return None if value is None else parse(value)


def _entries(args, can_ask: bool) -> Entries:
    """Parse every flag, and refuse what cannot work, before anything is sent."""
    entries = Entries(
        aspirated_nl=_optional(units.parse_volume, args.aspirated),
        probe_nl=_optional(units.parse_volume, args.probe),
        back_nl=_optional(units.parse_volume, args.back),
        add_nl=_optional(units.parse_volume, args.add),
        conc=_optional(units.parse_concentration, args.conc),
        conc2=_optional(units.parse_concentration, args.conc2),
        window_ms=_optional(units.parse_duration, args.window),
    )
    if (args.probe is None) != (args.back is None):
        raise BadInput("E_ARG", "--probe and --back go together")
    if entries.conc2 is not None and entries.conc is None:
        raise BadInput("E_ARG", "--conc2 repeats --conc: give both")
    if entries.conc2 is not None and entries.conc2 != entries.conc:
        raise BadInput("E_ARG", "--conc and --conc2 differ: check the vial label")
    if not can_ask:
        missing = [
            flag
            for flag, value in (
                ("--aspirated", entries.aspirated_nl),
                ("--add", entries.add_nl),
                ("--conc", entries.conc),
            )
            if value is None
        ]
        if missing:
            raise BadInput("E_ARG", f"without a terminal to ask on, give {', '.join(missing)}")
    return entries


class Procedure:
    """One refill on one connection; `run` returns its JSON record and the new status."""

    def __init__(self, session: Session, pump: PumpClient, entries: Entries, yes: bool):
        self.session = session
        self.pump = pump
        self.entries = entries
        self.yes = yes
        self.can_ask = prompt.can_ask(session.json)
        self.human = not session.json

    def run(self) -> tuple[dict, PumpStatus]:
        before = self.pump.status()
        window = (
            {}
            if self.entries.window_ms is None
            else {"window": units.wire_duration(self.entries.window_ms)}
        )
        try:
            begin = self.pump.request("REFILL", "BEGIN", **window).fields
        except PumpError:
            raise  # refused: no refill began, nothing to undo
        except (PumpHostError, KeyboardInterrupt) as failure:
            raise self._aborted(failure) from None  # BEGIN may have reached the device
        try:
            record = {"begin": self._show_begin(begin)}
            record["septum"] = self._aspirate(integer(begin, "probe_needed", BEGIN) == 1)
            review, result = self._fill(before)
        except (PumpHostError, KeyboardInterrupt) as failure:
            raise self._aborted(failure) from None
        return {**record, "review": review.data, "result": result.as_json()}, result

    # ---- steps -----------------------------------------------------------
    def _show_begin(self, begin: dict[str, str]) -> dict:
        expected = integer(begin, "expected_nl", BEGIN)
        tolerance = integer(begin, "tolerance_nl", BEGIN)
        conc = integer(begin, "conc_mcg_ml", BEGIN)
        capacity = integer(begin, "capacity_nl", BEGIN)
        window_s = integer(begin, "window_s", BEGIN)
        probe = integer(begin, "probe_needed", BEGIN) == 1
        if self.human:
            low = max(expected - tolerance, 0)
            rows = [
                ("expected residual", f"{units.format_volume(expected)} (the pump's account)"),
                (
                    "accepted aspirate",
                    f"{units.format_volume(low)} to {units.format_volume(expected + tolerance)}"
                    f" (+/- {units.format_volume(tolerance)})",
                ),
                ("drug in reservoir", units.format_concentration(conc) if conc else "none"),
                ("capacity", units.format_volume(capacity)),
                (
                    "refill window",
                    f"{units.format_duration(window_s * units.MS_PER_S)}: delivery is on hold; "
                    "if not committed by then, the previous therapy resumes",
                ),
                (
                    "septum proof",
                    "probe needed: residual below 1 mL, so also inject at least 0.5 mL "
                    "and aspirate it back"
                    if probe
                    else "the aspirated volume",
                ),
            ]
            self.session.console.print(key_value_table("Refill begun", rows))
            self.session.console.print(
                "Empty the reservoir completely through the refill-septum needle and measure "
                "what you withdraw. If unsure, do not refill: press Ctrl-C to abort."
            )
        return {
            "expected_ml": float(units.volume_ml(expected)),
            "tolerance_ml": float(units.volume_ml(tolerance)),
            "concentration_mcg_per_ml": conc,
            "capacity_ml": float(units.volume_ml(capacity)),
            "window_s": window_s,
            "probe_needed": probe,
        }

    def _value(self, given: int | None, question: str, parse, flag: str) -> int:
        if given is not None:
            return given
        if not self.can_ask:
            raise BadInput("E_ARG", f"the device needs {flag} for this refill")
        return prompt.ask_quantity(question, parse)

    def _aspirate(self, probe_needed: bool) -> dict:
        entries = self.entries
        aspirated = self._value(
            entries.aspirated_nl,
            "Volume aspirated from the reservoir (e.g. 3.1mL): ",
            units.parse_volume,
            "--aspirated",
        )
        args = {"vol": units.wire_volume(aspirated)}
        if probe_needed:
            probe = self._value(
                entries.probe_nl,
                "Probe volume injected (at least 0.5mL): ",
                units.parse_volume,
                "--probe and --back (expected residual below 1 mL)",
            )
            back = self._value(
                entries.back_nl,
                "Volume aspirated back: ",
                units.parse_volume,
                "--probe and --back (expected residual below 1 mL)",
            )
            args |= {"probe": units.wire_volume(probe), "back": units.wire_volume(back)}
        reply = self.pump.request("REFILL", "ASPIRATED", **args).fields
        got = integer(reply, "aspirated_nl", ASPIRATED)
        expected = integer(reply, "expected_nl", ASPIRATED)
        if self.human:
            self.session.console.print(
                f"Septum access confirmed: aspirated {units.format_volume(got)}, "
                f"expected {units.format_volume(expected)}."
            )
        return {
            "aspirated_ml": float(units.volume_ml(got)),
            "expected_ml": float(units.volume_ml(expected)),
        }

    def _concentrations(self) -> tuple[int, int]:
        entries = self.entries
        conc = self._value(
            entries.conc,
            "Concentration on the vial label (e.g. 500mcg/mL): ",
            units.parse_concentration,
            "--conc",
        )
        if entries.conc2 is not None:
            return conc, entries.conc2
        if entries.conc is not None and self.yes:
            # A script states the concentration once (documented); a person types it twice.
            return conc, conc
        second = self._value(
            None,
            "Concentration again, read from the label once more: ",
            units.parse_concentration,
            "--conc2",
        )
        return conc, second

    def _fill(self, before: PumpStatus) -> tuple[Review, PumpStatus]:
        add = self._value(
            self.entries.add_nl, "Volume to add (e.g. 18mL): ", units.parse_volume, "--add"
        )
        conc, conc2 = self._concentrations()
        proposal = self.pump.request(
            "REFILL",
            "FILL",
            vol=units.wire_volume(add),
            conc=units.wire_concentration(conc),
            conc2=units.wire_concentration(conc2),
        ).fields
        review = describe_fill(before, proposal)
        result = settle(self.session, self.pump, proposal, review, self.yes)
        return review, result

    def _aborted(self, failure: BaseException) -> PumpHostError:
        """Send REFILL ABORT; the failure, told what that did, for the caller to raise."""
        try:
            # CANCEL first: a REFILL FILL proposal may still be pending (say CONFIRM
            # timed out), and it must not outlive the procedure it belonged to.
            self.pump.request("CANCEL")
            self.pump.request("REFILL", "ABORT")
            note = f"REFILL ABORT sent: {UNCHANGED}"
        except PumpHostError as error:
            note = (
                f"REFILL ABORT failed ({error}): when the refill window ends the device "
                "resumes the previous therapy on the previous reservoir account"
            )
        if isinstance(failure, KeyboardInterrupt):
            return Interrupted(f"interrupted; {note}")
        assert isinstance(failure, PumpHostError)
        failure.args = (f"{failure}; {note}",)
        return failure


def _alarm_date(rtc: int) -> str:
    return "none expected" if rtc == NEVER else format_device_time(rtc)


def describe_fill(before: PumpStatus, proposal: dict[str, str]) -> Review:
    volume = integer(proposal, "volume_nl", FILL)
    conc = integer(proposal, "conc_mcg_ml", FILL)
    capacity = integer(proposal, "capacity_nl", FILL)
    state_after = text(proposal, "state_after", FILL)
    reprogram = integer(proposal, "reprogram_required", FILL) == 1
    low_alarm = integer_or_never(proposal, "low_alarm_rtc", FILL)
    rows = [
        (
            "reservoir",
            f"{units.format_volume(before.reservoir_nl)} of {units.format_volume(capacity)}",
            f"{units.format_volume(volume)} of {units.format_volume(capacity)}",
        ),
        (
            "concentration",
            units.format_concentration(before.conc_mcg_ml) if before.conc_mcg_ml else "none",
            units.format_concentration(conc),
        ),
        ("state", before.state, state_after),
        (
            "low-reservoir alarm",
            _alarm_date(before.low_alarm_rtc),
            "after the new programme" if reprogram else _alarm_date(low_alarm),
        ),
        (
            "reprogram required",
            "-",
            f"YES: no delivery until a programme for {units.format_concentration(conc)} "
            "is confirmed"
            if reprogram
            else "no",
        ),
    ]
    data = {
        "change": "REFILL",
        "volume_ml": float(units.volume_ml(volume)),
        "concentration_mcg_per_ml": conc,
        "capacity_ml": float(units.volume_ml(capacity)),
        "state_after": state_after,
        "reprogram_required": reprogram,
        "low_alarm_time": iso_device_time(low_alarm),
    }
    return Review("REFILL", rows, data)


def run(args, session: Session) -> int:
    entries = _entries(args, prompt.can_ask(session.json))
    require_a_way_to_confirm(args, session)
    with session.connect() as pump:
        record, result = Procedure(session, pump, entries, args.yes).run()
    if session.json:
        session.print_json(record)
    else:
        session.console.print("Refill committed.")
        session.console.print(status_table(result, "Pump status now"))
    return ExitCode.OK


def add_arguments(parser) -> None:
    steps = parser.add_argument_group("refill entries (asked for at a terminal when omitted)")
    steps.add_argument(
        "--aspirated", metavar="VOLUME", help="volume withdrawn emptying the reservoir, e.g. 3.1mL"
    )
    steps.add_argument(
        "--probe",
        metavar="VOLUME",
        help="probe injected to prove septum access when the residual is below 1 mL (>= 0.5mL)",
    )
    steps.add_argument("--back", metavar="VOLUME", help="volume of the probe aspirated back")
    steps.add_argument("--add", metavar="VOLUME", help="volume of drug added, e.g. 18mL")
    steps.add_argument("--conc", metavar="CONC", help="drug concentration, e.g. 500mcg/mL")
    steps.add_argument(
        "--conc2",
        metavar="CONC",
        help="the concentration a second time, as read again from the label "
        "(may be omitted with --yes: --conc is then sent as both entries)",
    )
    parser.add_argument(
        "--window",
        metavar="DURATION",
        help="refill window, 1min to 60min (device default 30min)",
    )
    add_yes_option(parser)


COMMAND = Command(
    name="refill",
    summary="refill the reservoir, with septum-access confirmation by the device",
    examples="""\
Steps: REFILL BEGIN (delivery holds; shows the expected residual), aspirate
(the device accepts only a volume matching its account), fill (volume and
concentration), side-by-side review, confirm. A refusal, a "no" or Ctrl-C after
BEGIN sends REFILL ABORT: reservoir and therapy stay exactly as they were.

examples:
  pumpctl refill                                   # guided, asks at each step
  pumpctl refill --aspirated 3.1mL --add 18mL --conc 500mcg/mL --yes
  pumpctl refill --aspirated 0.4mL --probe 2mL --back 1.9mL \\
                 --add 18mL --conc 500mcg/mL --conc2 500mcg/mL --yes --json
""",
    run=run,
    add_arguments=add_arguments,
)
