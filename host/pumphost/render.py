"""Human output: tables with a unit on every number."""

from rich.table import Table

from pumphost.alarms import Alarm
from pumphost.devicetime import format_device_time


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for name, value in rows:
        table.add_row(name, value)
    return table


def alarm_table(alarms: list[Alarm]) -> Table:
    table = Table(title="Active alarms", title_justify="left")
    # Only the message may wrap: a split code or date is misread.
    for column in ("id", "priority", "code", "acked", "since"):
        table.add_column(column, no_wrap=True)
    table.add_column("message")
    for alarm in alarms:
        message = f"{alarm.message} ({alarm.detail})" if alarm.detail else alarm.message
        table.add_row(
            str(alarm.id),
            alarm.priority,
            alarm.code,
            "yes" if alarm.acked else "no",
            format_device_time(alarm.since_rtc),
            message,
        )
    return table
