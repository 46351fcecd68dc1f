"""Quantities with explicit units, typed by technicians, to and from device integers.

Parsing is exact (integer decimal arithmetic, never binary floats): "3.1mL" is
3100000 nL, not 3099999. A dose typed in mg is refused, never converted: mg where
mcg was meant is a thousandfold overdose, the error this tool exists to prevent.

Device units (docs/protocol.md): doses ng and ng/day, concentrations mcg/mL,
volumes nL, durations ms. The `wire_*` functions write a parsed quantity back in
the protocol's own spelling, so the device receives exactly the value the host
checked, whatever spacing or case the person typed.
"""

import re
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from pumphost.errors import BadInput

NG_PER_MCG = 1000
NL_PER_ML = 1_000_000
NL_PER_UL = 1000
MS_PER_S = 1000

_QUANTITY = re.compile(r"\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>\S.*?)?\s*")
_MILLIGRAMS = re.compile(r"mg\b", re.IGNORECASE)
# Nine digits each side keep every product well inside Decimal's 28-digit precision,
# so scaling never rounds; no pump quantity needs more.
_MAX_DIGITS = 9

_VOLUME_UNITS_NL = {"ml": NL_PER_ML, "ul": NL_PER_UL, "µl": NL_PER_UL, "nl": 1}
_DURATION_UNITS_MS = {"s": MS_PER_S, "min": 60 * MS_PER_S, "h": 3600 * MS_PER_S}


def _split(text: str, example: str) -> tuple[Decimal, str]:
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise BadInput(
            "E_VALUE", f"{text!r} is not a plain decimal number with a unit (e.g. {example})"
        )
    if match.group("unit") is None:
        raise BadInput("E_UNITS", f"{text!r} has no unit (e.g. {example})")
    whole, _, fraction = match.group("number").partition(".")
    if len(whole) > _MAX_DIGITS:
        raise BadInput("E_RANGE", f"{text!r} is too large")
    if len(fraction) > _MAX_DIGITS:
        raise BadInput("E_VALUE", f"{text!r} has more decimals than any device resolves")
    return Decimal(match.group("number")), match.group("unit")


def _exact(value: Decimal, scale: int, text: str, device_unit: str) -> int:
    scaled = value * scale
    if scaled != scaled.to_integral_value():
        raise BadInput("E_VALUE", f"{text!r} is finer than the device resolves (1 {device_unit})")
    return int(scaled)


def _refuse_milligrams(unit: str, what: str) -> None:
    if _MILLIGRAMS.match(unit):
        raise BadInput(
            "E_UNITS", f"{what} must be in micrograms (mcg); mg is refused, not converted"
        )


def parse_daily_dose(text: str) -> int:
    """'150mcg/day' -> 150000 (ng/day)."""
    number, unit = _split(text, "150mcg/day")
    _refuse_milligrams(unit, "a daily dose")
    if unit.lower() != "mcg/day":
        raise BadInput("E_UNITS", f"a daily dose must be in mcg/day, not {unit!r}")
    return _exact(number, NG_PER_MCG, text, "ng/day")


def parse_dose(text: str) -> int:
    """'50mcg' -> 50000 (ng): a single dose, such as a bolus."""
    number, unit = _split(text, "50mcg")
    _refuse_milligrams(unit, "a dose")
    if unit.lower() != "mcg":
        raise BadInput("E_UNITS", f"a dose must be in mcg, not {unit!r}")
    return _exact(number, NG_PER_MCG, text, "ng")


def parse_concentration(text: str) -> int:
    """'500mcg/mL' -> 500 (mcg/mL; labelled strengths are whole numbers)."""
    number, unit = _split(text, "500mcg/mL")
    _refuse_milligrams(unit, "a concentration")
    if unit.lower() != "mcg/ml":
        raise BadInput("E_UNITS", f"a concentration must be in mcg/mL, not {unit!r}")
    return _exact(number, 1, text, "mcg/mL")


def parse_volume(text: str) -> int:
    """'3.1mL' -> 3100000, '250uL' -> 250000 (nL)."""
    number, unit = _split(text, "3.1mL")
    scale = _VOLUME_UNITS_NL.get(unit.lower())
    if scale is None:
        raise BadInput("E_UNITS", f"a volume must be in mL, uL or nL, not {unit!r}")
    return _exact(number, scale, text, "nL")


def parse_duration(text: str) -> int:
    """'1min' -> 60000, '90s' -> 90000, '2h' -> 7200000 (ms)."""
    number, unit = _split(text, "90s")
    scale = _DURATION_UNITS_MS.get(unit.lower())
    if scale is None:
        raise BadInput("E_UNITS", f"a duration must be in s, min or h, not {unit!r}")
    return _exact(number, scale, text, "ms")


def parse_time_of_day(text: str) -> int:
    """'06:30' -> 390 (minutes after midnight on the device clock)."""
    hours, colon, minutes = text.strip().partition(":")
    if not (colon and len(hours) == 2 and len(minutes) == 2 and (hours + minutes).isdigit()):
        raise BadInput("E_VALUE", f"{text!r} is not a time of day HH:MM (e.g. 06:30)")
    if int(hours) > 23 or int(minutes) > 59:
        raise BadInput("E_RANGE", f"time of day {text!r} does not exist")
    return int(hours) * 60 + int(minutes)


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 3.100 -> '3.1', 1E+2 -> '100'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def wire_daily_dose(ng_per_day: int) -> str:
    return f"{_plain(daily_dose_mcg(ng_per_day))}mcg/day"


def wire_dose(ng: int) -> str:
    return f"{_plain(dose_mcg(ng))}mcg"


def wire_concentration(mcg_per_ml: int) -> str:
    return f"{mcg_per_ml}mcg/mL"


def wire_volume(nl: int) -> str:
    return f"{_plain(volume_ml(nl))}mL"


def wire_duration(ms: int) -> str:
    return f"{_plain(Decimal(ms) / MS_PER_S)}s"


def wire_time_of_day(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _decimal_text(value: Decimal, places: int, rounding: str = ROUND_HALF_EVEN) -> str:
    """Fixed `places` decimals, then trailing zeros dropped: 3.100 -> '3.1', 2.000 -> '2'."""
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=rounding):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def volume_ml(nl: int) -> Decimal:
    return Decimal(nl) / NL_PER_ML


def dose_mcg(ng: int) -> Decimal:
    return Decimal(ng) / NG_PER_MCG


def daily_dose_mcg(ng_per_day: int) -> Decimal:
    return Decimal(ng_per_day) / NG_PER_MCG


def rate_ul_per_hour(nl_per_day: int) -> Decimal:
    return Decimal(nl_per_day) / (NL_PER_UL * 24)


def format_volume(nl: int) -> str:
    """Rounded down, so a reservoir is never shown holding more than the device believes."""
    return f"{_decimal_text(volume_ml(nl), 3, ROUND_FLOOR)} mL"


def format_daily_dose(ng_per_day: int) -> str:
    return f"{_decimal_text(daily_dose_mcg(ng_per_day), 3)} mcg/day"


def format_dose(ng: int) -> str:
    return f"{_decimal_text(dose_mcg(ng), 3)} mcg"


def format_concentration(mcg_per_ml: int) -> str:
    return f"{mcg_per_ml} mcg/mL"


def format_daily_rate(nl_per_day: int) -> str:
    return f"{_decimal_text(volume_ml(nl_per_day), 4)} mL/day"


def format_hourly_rate(nl_per_day: int) -> str:
    return f"{_decimal_text(rate_ul_per_hour(nl_per_day), 2)} uL/h"


def format_duration(ms: int) -> str:
    """Largest unit that keeps the figure readable: 90000 -> '1.5 min'."""
    for unit, scale in (("h", 3600 * MS_PER_S), ("min", 60 * MS_PER_S), ("s", MS_PER_S)):
        if ms >= scale:
            return f"{_decimal_text(Decimal(ms) / scale, 3)} {unit}"
    return f"{ms} ms"


def format_rate(nl_per_day: int) -> str:
    """A volume rate in both units technicians use: '0.3 mL/day (12.5 uL/h)'."""
    return f"{format_daily_rate(nl_per_day)} ({format_hourly_rate(nl_per_day)})"


def rate_nl_per_day(nl: int, over_ms: int) -> int:
    """The rate that delivers `nl` in `over_ms`, to the nearest nL/day."""
    return (2 * nl * 86_400_000 + over_ms) // (2 * over_ms)


def format_time_left(seconds: int) -> str:
    """Whole days, hours and minutes: 93784 -> '1 d 2 h 3 min'."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)
