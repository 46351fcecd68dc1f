"""The device's STATUS reply as typed integers, and its JSON form."""

from dataclasses import dataclass

from pumphost import fields as reply_fields
from pumphost import units
from pumphost.devicetime import iso_device_time
from pumphost.fields import NEVER

NO_ALARMS = "-"
NEVER_FILLED = 0


def _text(fields: dict[str, str], key: str) -> str:
    return reply_fields.text(fields, key, "STATUS")


def _integer(fields: dict[str, str], key: str) -> int:
    return reply_fields.integer(fields, key, "STATUS")


def _forecast(fields: dict[str, str], key: str) -> int:
    return reply_fields.integer_or_never(fields, key, "STATUS")


def _optional(fields: dict[str, str], key: str) -> int | None:
    return _integer(fields, key) if key in fields else None


def _never_as_none(value: int) -> int | None:
    return None if value == NEVER else value


@dataclass(frozen=True)
class PumpStatus:
    """Device units throughout: nL, ng, ng/day, nL/day, mcg/mL, pL, s.

    Times ending in `_rtc` are device-clock seconds (local time, see devicetime.py).
    """

    state: str
    reason: str
    program: str
    reservoir_nl: int
    capacity_nl: int
    conc_mcg_ml: int
    prog_conc_mcg_ml: int
    dose_ng_day: int
    rate_nl_day: int
    delivered_nl: int
    ustep_pl: int
    bolus_ng: int
    rtc_s: int
    alarms: tuple[str, ...]
    total_ng_day: int | None  # None: no programme
    total_nl_day: int | None
    low_nl: int
    low_in_s: int  # -1: never at the present programme
    empty_in_s: int
    low_alarm_rtc: int
    filled_rtc: int  # 0: never filled

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "PumpStatus":
        alarms = _text(fields, "alarms")
        return cls(
            state=_text(fields, "state"),
            reason=_text(fields, "reason"),
            program=_text(fields, "program"),
            reservoir_nl=_integer(fields, "reservoir_nl"),
            capacity_nl=_integer(fields, "capacity_nl"),
            conc_mcg_ml=_integer(fields, "conc_mcg_ml"),
            prog_conc_mcg_ml=_integer(fields, "prog_conc_mcg_ml"),
            dose_ng_day=_integer(fields, "dose_ng_day"),
            rate_nl_day=_integer(fields, "rate_nl_day"),
            delivered_nl=_integer(fields, "delivered_nl"),
            ustep_pl=_integer(fields, "ustep_pl"),
            bolus_ng=_integer(fields, "bolus_ng"),
            rtc_s=_integer(fields, "rtc_s"),
            alarms=() if alarms == NO_ALARMS else tuple(alarms.split(",")),
            total_ng_day=_optional(fields, "total_ng_day"),
            total_nl_day=_optional(fields, "total_nl_day"),
            low_nl=_integer(fields, "low_nl"),
            low_in_s=_forecast(fields, "low_in_s"),
            empty_in_s=_forecast(fields, "empty_in_s"),
            low_alarm_rtc=_forecast(fields, "low_alarm_rtc"),
            filled_rtc=_integer(fields, "filled_rtc"),
        )

    def as_json(self) -> dict:
        """Technician units. Floats are the nearest doubles to exact decimal values;
        None stands for 'none' or 'never'."""

        def ml(nl: int | None) -> float | None:
            return None if nl is None else float(units.volume_ml(nl))

        def mcg_day(ng: int | None) -> float | None:
            return None if ng is None else float(units.daily_dose_mcg(ng))

        return {
            "state": self.state,
            "reason": self.reason,
            "program": self.program,
            "reservoir_ml": ml(self.reservoir_nl),
            "capacity_ml": ml(self.capacity_nl),
            "concentration_mcg_per_ml": self.conc_mcg_ml,
            "program_concentration_mcg_per_ml": self.prog_conc_mcg_ml,
            "dose_mcg_per_day": mcg_day(self.dose_ng_day),
            "rate_ml_per_day": ml(self.rate_nl_day),
            "rate_ul_per_hour": float(units.rate_ul_per_hour(self.rate_nl_day)),
            "total_dose_mcg_per_day": mcg_day(self.total_ng_day),
            "total_rate_ml_per_day": ml(self.total_nl_day),
            "bolus_mcg": float(units.dose_mcg(self.bolus_ng)),
            "delivered_ml": ml(self.delivered_nl),
            "device_time": iso_device_time(self.rtc_s),
            "alarms": list(self.alarms),
            "low_threshold_ml": ml(self.low_nl),
            "low_in_s": _never_as_none(self.low_in_s),
            "empty_in_s": _never_as_none(self.empty_in_s),
            "low_alarm_time": iso_device_time(self.low_alarm_rtc),
            "filled_time": (
                None if self.filled_rtc == NEVER_FILLED else iso_device_time(self.filled_rtc)
            ),
        }
