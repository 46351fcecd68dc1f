"""Virtual clock: MicroPython tick arithmetic and the wrap shortly after start."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pumpsim.clock import (
    TICKS_PERIOD,
    VirtualClock,
    format_seconds,
    ticks_add,
    ticks_diff,
)

ticks = st.integers(min_value=0, max_value=TICKS_PERIOD - 1)
deltas = st.integers(min_value=-(TICKS_PERIOD // 2), max_value=TICKS_PERIOD // 2 - 1)


def test_ticks_diff_across_the_wrap():
    assert ticks_diff(5, TICKS_PERIOD - 5) == 10
    assert ticks_diff(TICKS_PERIOD - 5, 5) == -10
    assert ticks_add(TICKS_PERIOD - 1, 1) == 0
    assert ticks_add(0, -1) == TICKS_PERIOD - 1


def test_ticks_diff_half_period_is_negative_like_micropython():
    assert ticks_diff(TICKS_PERIOD // 2, 0) == -(TICKS_PERIOD // 2)
    assert ticks_diff(TICKS_PERIOD // 2 - 1, 0) == TICKS_PERIOD // 2 - 1


@given(ticks, deltas)
def test_add_then_diff_round_trips(t, d):
    later = ticks_add(t, d)
    assert 0 <= later < TICKS_PERIOD
    assert ticks_diff(later, t) == d


def test_tick_counters_wrap_five_seconds_after_start():
    clock = VirtualClock()
    us0, ms0 = clock.ticks_us(), clock.ticks_ms()
    clock.advance_to(4_999_999)
    assert clock.ticks_us() == TICKS_PERIOD - 1
    clock.advance_to(5_000_000)
    assert clock.ticks_us() == 0 and clock.ticks_ms() == 0
    assert ticks_diff(clock.ticks_us(), us0) == 5_000_000
    assert ticks_diff(clock.ticks_ms(), ms0) == 5_000


def test_abs_from_ticks_is_nearest_instant_to_now():
    clock = VirtualClock()
    clock.advance_to(4_000_000)
    future = ticks_add(clock.ticks_us(), 2_000_000)  # lies beyond the wrap
    assert clock.abs_from_ticks_us(future) == 6_000_000
    past = ticks_add(clock.ticks_us(), -3_000_000)
    assert clock.abs_from_ticks_us(past) == 1_000_000


def test_rtc_follows_virtual_seconds_and_can_be_set():
    clock = VirtualClock(epoch_s=1_000_000)
    clock.advance_to(2_500_000)
    assert clock.rtc_s() == 1_000_002
    clock.set_rtc_s(2_000_000)
    assert clock.rtc_s() == 2_000_000
    clock.advance_to(3_000_000)
    assert clock.rtc_s() == 2_000_001


def test_time_never_goes_backwards():
    clock = VirtualClock()
    clock.advance_to(10)
    with pytest.raises(ValueError):
        clock.advance_to(9)
    assert clock.now_us == 10


def test_format_seconds_is_exact():
    assert format_seconds(0) == "0.000000"
    assert format_seconds(86_400_000_001) == "86400.000001"
