"""STATUS for people: one table, a unit on every figure, device times as local dates."""

from rich.table import Table

from pumphost import units
from pumphost.devicetime import format_device_time
from pumphost.fields import NEVER
from pumphost.render import key_value_table
from pumphost.status import NEVER_FILLED, PumpStatus


def forecast_text(in_s: int, at_rtc: int) -> str:
    if in_s == NEVER:
        return "not at the present programme"
    at = f", at {format_device_time(at_rtc)}" if at_rtc != NEVER else ""
    return f"in {units.format_time_left(in_s)}{at}"


def status_rows(status: PumpStatus) -> list[tuple[str, str]]:
    program = status.program
    if status.prog_conc_mcg_ml:
        program += f" for {units.format_concentration(status.prog_conc_mcg_ml)}"
    rows = [
        ("state", status.state),
        ("reason", status.reason or "-"),
        ("program", program),
        (
            "reservoir",
            f"{units.format_volume(status.reservoir_nl)} "
            f"of {units.format_volume(status.capacity_nl)}",
        ),
        ("concentration", units.format_concentration(status.conc_mcg_ml)),
        ("daily dose", units.format_daily_dose(status.dose_ng_day)),
        ("basal rate", units.format_rate(status.rate_nl_day)),
    ]
    if status.total_ng_day is not None and status.total_nl_day is not None:
        rows.append(
            (
                "24-h total",
                f"{units.format_daily_dose(status.total_ng_day)}, "
                f"{units.format_rate(status.total_nl_day)}",
            )
        )
    # The empty-reservoir time has no device date of its own; it follows from the clock.
    empty_at = NEVER if status.empty_in_s == NEVER else status.rtc_s + status.empty_in_s
    rows += [
        ("bolus", f"{units.format_dose(status.bolus_ng)} running" if status.bolus_ng else "none"),
        ("delivered", units.format_volume(status.delivered_nl)),
        ("low-reservoir level", units.format_volume(status.low_nl)),
        ("low reservoir", forecast_text(status.low_in_s, status.low_alarm_rtc)),
        ("empty", forecast_text(status.empty_in_s, empty_at)),
        (
            "last filled",
            "never" if status.filled_rtc == NEVER_FILLED else format_device_time(status.filled_rtc),
        ),
        ("device clock", format_device_time(status.rtc_s)),
        ("alarms", ", ".join(status.alarms) or "none"),
    ]
    return rows


def status_table(status: PumpStatus, title: str = "Pump status") -> Table:
    return key_value_table(title, status_rows(status))
