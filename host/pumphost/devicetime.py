"""The device clock: Unix seconds counted in local time, not UTC.

Flex steps follow the time of day, so the device keeps the wall-clock time of
the place it is used and has no idea of time zones. A device reading is
therefore shown as it is (a naive local date-time), and the host's clock is
compared in the same terms: Unix time plus the host's current UTC offset.
"""

import time
from datetime import UTC, datetime

from pumphost.fields import NEVER


def host_local_seconds(now: float | None = None) -> int:
    """The host's wall-clock time in the device's terms."""
    now = time.time() if now is None else now
    offset = datetime.fromtimestamp(now).astimezone().utcoffset()
    return int(now + (offset.total_seconds() if offset else 0))


def device_datetime(rtc_s: int) -> datetime:
    # UTC here only means "no zone shift": the count is already local time.
    return datetime.fromtimestamp(rtc_s, UTC).replace(tzinfo=None)


def format_device_time(rtc_s: int) -> str:
    return device_datetime(rtc_s).strftime("%Y-%m-%d %H:%M:%S")


def iso_device_time(rtc_s: int) -> str | None:
    """ISO 8601 local date-time for JSON, None for the device's 'never' (-1)."""
    return None if rtc_s == NEVER else device_datetime(rtc_s).isoformat()
