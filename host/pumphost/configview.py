"""The device's CONFIG listing for people and scripts: mechanics and limits.

The device names every value with its unit in the key (`_nl`, `_ng`, `_ms`,
`_um`, ...); the table shows each with its unit spelled out, JSON keeps the
device's keys and integer units.
"""

from pumphost import units
from pumphost.fields import integer_list

MECHANICS = (
    "syringe",
    "syringe_id_um",
    "lead_um",
    "steps_per_rev",
    "microsteps",
    "capacity_nl",
    "ustep_pl",
)
LIMITS = (
    "concentrations",
    "titration_profile",
    "max_daily_ng",
    "max_rate_nl_day",
    "max_bolus_ng",
    "min_bolus_ms",
    "bolus_lockout_ms",
    "max_boluses_24h",
    "low_reservoir_nl",
    "refill_interval_days",
)
_TEXT = ("syringe", "titration_profile")


def _number(fields: dict[str, str], key: str) -> int | None:
    value = fields.get(key, "")
    return int(value) if value.isdigit() else None


def format_value(key: str, value: str) -> str:
    """One setting with its unit, e.g. max_daily_ng=1000000 -> '1000 mcg/day'."""
    if key in _TEXT or not value.replace(",", "").isdigit():
        return value
    if key == "concentrations":
        return ", ".join(
            units.format_concentration(c) for c in integer_list({key: value}, key, "CONFIG")
        )
    n = int(value)
    if key == "max_daily_ng":
        return units.format_daily_dose(n)
    if key.endswith("_nl_day"):
        return units.format_rate(n)
    if key.endswith("_ng"):
        return units.format_dose(n)
    if key.endswith("_nl"):
        return units.format_volume(n)
    if key.endswith("_ms"):
        return units.format_duration(n)
    if key.endswith("_um"):
        return f"{n} um"
    if key == "ustep_pl":
        return f"{n} pL"
    if key.endswith("_days"):
        return f"{n} days"
    if key == "max_boluses_24h":
        return f"{n} per 24 h"
    return value


def as_json(fields: dict[str, str]) -> dict:
    """Device keys and units; numbers as numbers, concentrations as a list."""
    out: dict = {}
    for key in MECHANICS + LIMITS:
        if key not in fields:
            continue
        value = fields[key]
        if key == "concentrations":
            out[key] = integer_list(fields, key, "CONFIG")
        elif key in _TEXT:
            out[key] = value
        else:
            out[key] = _number(fields, key)
    out["reboot_pending"] = fields.get("reboot_pending") == "1"
    if out["reboot_pending"]:
        out["next"] = as_json({k[5:]: v for k, v in fields.items() if k.startswith("next_")})
        out["next"].pop("reboot_pending")
    return out


def rows(fields: dict[str, str]) -> list[tuple[str, str]]:
    out = [(key, format_value(key, fields[key])) for key in MECHANICS + LIMITS if key in fields]
    if fields.get("reboot_pending") == "1":
        for key in MECHANICS:
            nxt = fields.get("next_" + key)
            if nxt is not None and nxt != fields.get(key):
                out.append((f"{key} at next restart", format_value(key, nxt)))
    return out
