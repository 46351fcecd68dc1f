"""The device's STATUS reply as typed integers, and its human/JSON forms."""

from dataclasses import dataclass

from pumphost import units
from pumphost.errors import ProtocolError

NO_ALARMS = "-"


def _integer(fields: dict[str, str], key: str) -> int:
    try:
        text = fields[key]
    except KeyError:
        raise ProtocolError(f"STATUS reply lacks {key}") from None
    if not text.isdigit():
        raise ProtocolError(f"STATUS reply has a non-integer {key}={text!r}")
    return int(text)


def _text(fields: dict[str, str], key: str) -> str:
    try:
        return fields[key]
    except KeyError:
        raise ProtocolError(f"STATUS reply lacks {key}") from None


@dataclass(frozen=True)
class PumpStatus:
    """Device units throughout: nL, ng/day, nL/day, mcg/mL, pL."""

    state: str
    program: str
    reservoir_nl: int
    capacity_nl: int
    conc_mcg_ml: int
    dose_ng_day: int
    rate_nl_day: int
    delivered_nl: int
    ustep_pl: int
    alarms: tuple[str, ...]

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "PumpStatus":
        alarms = _text(fields, "alarms")
        return cls(
            state=_text(fields, "state"),
            program=_text(fields, "program"),
            reservoir_nl=_integer(fields, "reservoir_nl"),
            capacity_nl=_integer(fields, "capacity_nl"),
            conc_mcg_ml=_integer(fields, "conc_mcg_ml"),
            dose_ng_day=_integer(fields, "dose_ng_day"),
            rate_nl_day=_integer(fields, "rate_nl_day"),
            delivered_nl=_integer(fields, "delivered_nl"),
            ustep_pl=_integer(fields, "ustep_pl"),
            alarms=() if alarms == NO_ALARMS else tuple(alarms.split(",")),
        )

    def as_json(self) -> dict:
        """Technician units. Floats are the nearest doubles to exact decimal values."""
        return {
            "state": self.state,
            "program": self.program,
            "reservoir_ml": float(units.volume_ml(self.reservoir_nl)),
            "capacity_ml": float(units.volume_ml(self.capacity_nl)),
            "concentration_mcg_per_ml": self.conc_mcg_ml,
            "dose_mcg_per_day": float(units.daily_dose_mcg(self.dose_ng_day)),
            "rate_ml_per_day": float(units.volume_ml(self.rate_nl_day)),
            "rate_ul_per_hour": float(units.rate_ul_per_hour(self.rate_nl_day)),
            "delivered_ml": float(units.volume_ml(self.delivered_nl)),
            "alarms": list(self.alarms),
        }
