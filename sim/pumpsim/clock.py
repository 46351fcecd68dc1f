"""Virtual time of the simulated MCU.

The simulator keeps one unbounded integer, `now_us`: virtual microseconds since
the simulator started. Everything the firmware sees is derived from it. The
tick counters wrap with period 2**30 like MicroPython's, and start a few seconds
before the wrap so that any raw `-` or `<` on ticks in the firmware fails within
the first seconds of a run instead of after 12 days.
"""

TICKS_PERIOD = 1 << 30
_TICKS_HALF = TICKS_PERIOD >> 1
_TICKS_MASK = TICKS_PERIOD - 1

# Both counters wrap five virtual seconds after start.
TICKS_US_START = TICKS_PERIOD - 5_000_000
TICKS_MS_START = TICKS_PERIOD - 5_000

# 2025-01-01T00:00:00Z: a fixed default so runs are reproducible.
DEFAULT_EPOCH_S = 1_735_689_600


def ticks_add(ticks, delta):
    """MicroPython `time.ticks_add`: `ticks + delta` wrapped into the tick period."""
    return (ticks + delta) & _TICKS_MASK


def ticks_diff(a, b):
    """MicroPython `time.ticks_diff`: signed `a - b`, correct across the wrap."""
    return ((a - b + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF


class VirtualClock:
    """Virtual microseconds plus the device's wall clock (RTC).

    Only the simulator's idle/advance machinery calls `advance_to`; the RTC
    offset belongs to the device, so it survives power cycles like a
    battery-backed RTC.
    """

    def __init__(self, epoch_s=DEFAULT_EPOCH_S):
        self.now_us = 0
        self.epoch_s = epoch_s
        self._rtc_offset_s = 0

    def advance_to(self, t_us):
        if t_us < self.now_us:
            raise ValueError("virtual time cannot go backwards")
        self.now_us = t_us

    def ticks_us(self):
        return (TICKS_US_START + self.now_us) & _TICKS_MASK

    def ticks_ms(self):
        return (TICKS_MS_START + self.now_us // 1000) & _TICKS_MASK

    def abs_from_ticks_us(self, ticks):
        """Absolute virtual time of a `ticks_us` value, taken as the nearest
        instant to now (past or future), as ticks_diff defines it."""
        return self.now_us + ticks_diff(ticks, self.ticks_us())

    def rtc_s(self):
        return self.epoch_s + self._rtc_offset_s + self.now_us // 1_000_000

    def set_rtc_s(self, seconds):
        self._rtc_offset_s = seconds - self.epoch_s - self.now_us // 1_000_000


def format_seconds(t_us):
    """Virtual microseconds as seconds with exactly six decimals, without floats."""
    seconds, micros = divmod(t_us, 1_000_000)
    return f"{seconds}.{micros:06d}"
