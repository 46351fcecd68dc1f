"""What the pump was asked to deliver, exactly: a piecewise-constant volume rate.

A therapy description (basal flex schedule, boluses, concentration) is turned into
rate pieces the way the firmware reads it (firmware/pump/therapy.py): every dose
rate becomes a volume rate in whole nanolitres per day, rounded half up, and a
bolus becomes its whole-nanolitre volume spread evenly over its duration, on top
of the basal rate. Rates and volumes are Fractions, so the reference the delivery
is judged against carries no rounding of its own.

Time t is in seconds since the therapy started (the analysis maps it onto the
simulator's clock); outside every piece the rate is zero.
"""

import bisect
import itertools
from dataclasses import dataclass
from fractions import Fraction

DAY_S = 86_400


def volume_nl(dose_ng, conc_mcg_ml):
    """Volume holding `dose_ng` at `conc_mcg_ml`, in whole nanolitres, rounded half up.

    Mirrors the firmware's rule: mcg/mL equals ng/uL, so the exact volume is
    dose_ng * 1000 / conc nanolitres. The accuracy figures are only meaningful if
    the reference rounds exactly as the device does.
    """
    return (2000 * dose_ng + conc_mcg_ml) // (2 * conc_mcg_ml)


def dose_ng(dose_mcg):
    """A dose typed in mcg (int, decimal string or Fraction) as whole nanograms."""
    ng = Fraction(str(dose_mcg)) * 1000
    if ng.denominator != 1:
        raise ValueError(f"dose {dose_mcg} mcg is not a whole number of nanograms")
    return int(ng)


def clock_s(text):
    """Seconds after midnight of a time of day written HH:MM or HH:MM:SS[.ffffff]."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"time of day must be HH:MM or HH:MM:SS, not {text!r}")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = Fraction(parts[2]) if len(parts) == 3 else Fraction(0)
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
        raise ValueError(f"time of day out of range: {text!r}")
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class FlexStep:
    """From time of day `at` (HH:MM) on, `dose_mcg_day` until the next step, every day."""

    at: str
    dose_mcg_day: int | str | Fraction


@dataclass(frozen=True)
class Bolus:
    """`dose_mcg` spread evenly over `duration_s`, starting `start_s` after therapy start."""

    start_s: int | Fraction
    dose_mcg: int | str | Fraction
    duration_s: int | Fraction


@dataclass(frozen=True)
class Programme:
    """A therapy as programmed. One basal step is a simple continuous infusion.

    `start_clock` is the device's time of day when the therapy starts (t = 0): it
    places the flex steps on the therapy's own time axis.
    """

    conc_mcg_ml: int
    basal: tuple[FlexStep, ...]
    start_clock: str = "00:00"
    boluses: tuple[Bolus, ...] = ()
    duration_s: int = DAY_S

    def describe(self):
        """JSON-ready description, in the units a clinician typed."""
        return {
            "conc_mcg_ml": self.conc_mcg_ml,
            "basal_mcg_day": [[s.at, str(s.dose_mcg_day)] for s in self.basal],
            "start_clock": self.start_clock,
            "boluses": [
                {"start_s": str(b.start_s), "dose_mcg": str(b.dose_mcg),
                 "duration_s": str(b.duration_s)}
                for b in self.boluses
            ],
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True)
class Piece:
    t_start_s: Fraction
    t_end_s: Fraction
    rate_ul_per_s: Fraction


class ExpectedDelivery:
    """Programmed cumulative volume V(t): exact, piecewise linear in t."""

    def __init__(self, pieces):
        self.pieces = tuple(pieces)
        self._starts = [p.t_start_s for p in self.pieces]
        self._volume_at_start = []
        volume = Fraction(0)
        previous_end = Fraction(0)
        for piece in self.pieces:
            if piece.t_start_s < previous_end or piece.t_end_s <= piece.t_start_s:
                raise ValueError("pieces must be non-empty, ordered and not overlap, from t = 0")
            if piece.rate_ul_per_s < 0:
                raise ValueError("a pump cannot be programmed to withdraw")
            self._volume_at_start.append(volume)
            volume += piece.rate_ul_per_s * (piece.t_end_s - piece.t_start_s)
            previous_end = piece.t_end_s
        self.total_ul = volume

    def volume_ul(self, t_s):
        """Exact programmed volume from t = 0 to `t_s` (a Fraction or int), in uL."""
        i = bisect.bisect_right(self._starts, t_s) - 1
        if i < 0:
            return Fraction(0)
        piece = self.pieces[i]
        elapsed = min(t_s, piece.t_end_s) - piece.t_start_s
        return self._volume_at_start[i] + piece.rate_ul_per_s * elapsed

    def corners_s(self):
        """Times where the rate may change: V(t) is a straight line between them."""
        times = []
        for piece in self.pieces:
            times.extend((piece.t_start_s, piece.t_end_s))
        return sorted(set(times))


def _basal_rate(programme, steps, t_s):
    """Basal uL/s at therapy time t: the step in force at that time of day."""
    day_position = (clock_s(programme.start_clock) + t_s) % DAY_S
    # before the first step of the day, the last step of the previous day still runs
    in_force = steps[-1]
    for start, dose in steps:
        if start <= day_position:
            in_force = (start, dose)
    nl_day = volume_nl(dose_ng(in_force[1]), programme.conc_mcg_ml)
    return Fraction(nl_day, 1000 * DAY_S)


def build_expected(programme):
    """The exact programmed delivery of `programme` over its duration."""
    if not programme.basal:
        raise ValueError("a programme needs at least one basal step")
    steps = sorted((clock_s(s.at), s.dose_mcg_day) for s in programme.basal)
    if len({start for start, _ in steps}) != len(steps):
        raise ValueError("two flex steps start at the same time of day")
    end = Fraction(programme.duration_s)
    start_clock = clock_s(programme.start_clock)
    corners = {Fraction(0), end}
    for start, _ in steps:
        first = (start - start_clock) % DAY_S
        corners.update(Fraction(first + day * DAY_S) for day in range(int(end // DAY_S) + 1))
    bolus_rates = []
    for bolus in programme.boluses:
        nl = volume_nl(dose_ng(bolus.dose_mcg), programme.conc_mcg_ml)
        b_start = Fraction(bolus.start_s)
        b_end = b_start + Fraction(bolus.duration_s)
        bolus_rates.append((b_start, b_end, Fraction(nl, 1000) / Fraction(bolus.duration_s)))
        corners.update((b_start, b_end))
    corners = sorted(t for t in corners if 0 <= t <= end)
    pieces = []
    for a, b in itertools.pairwise(corners):
        rate = _basal_rate(programme, steps, a)
        rate += sum((r for b_start, b_end, r in bolus_rates if b_start <= a < b_end), Fraction(0))
        if pieces and pieces[-1].rate_ul_per_s == rate:
            pieces[-1] = Piece(pieces[-1].t_start_s, b, rate)
        else:
            pieces.append(Piece(a, b, rate))
    return ExpectedDelivery(pieces)
