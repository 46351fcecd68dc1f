"""The step planner never drifts: every step fires at its exact due time (or, in a
fast segment, leads it by at most 1/64 of the step interval), whatever the rate
changes in between. Due times are recomputed here independently with Fractions."""

from fractions import Fraction

import corehal  # noqa: F401  (puts firmware/ on sys.path)
from hypothesis import given, settings
from hypothesis import strategies as st

from pump import planner as pl

USTEP_PL = 71256
DAY_US = 86_400_000_000


def piecewise(pieces):
    """pieces: [(duration_us, nl_per_day)] -> rate(t) for the planner, and bounds."""
    bounds = []
    t = 0
    for dur, nl_day in pieces:
        bounds.append((t, t + dur, nl_day))
        t += dur

    def rate(at):
        for start, end, nl_day in bounds:
            if start <= at < end:
                return nl_day * 1000, USTEP_PL * DAY_US, end
        return 0, 1, None

    return rate, bounds


def exact_due_times(bounds, count):
    """Due time of steps 1..count: first whole us where A(t) >= k - 1/2."""
    due = []
    acc = Fraction(0)
    k = 1
    for start, end, nl_day in bounds:
        r = Fraction(nl_day * 1000, USTEP_PL * DAY_US)
        while k <= count and r and acc + r * (end - start) >= k - Fraction(1, 2):
            need = (k - Fraction(1, 2) - acc) / r
            t = start + max(0, -(-need.numerator // need.denominator))
            due.append(t)
            k += 1
        acc += r * (end - start)
    return due, acc


def run(pieces, queue_depth=2):
    rate, bounds = piecewise(pieces)
    end = bounds[-1][1]
    p = pl.Planner(0)
    steps = []  # (emitted_at, ideal_interval_us or 0)
    now = 0
    while True:
        seg = p.next_segment(now, rate, 60_000_000, 10**9)
        if seg is None:
            if p.wake is None or p.wake >= end:
                break
            now = p.wake
            continue
        start, count, interval = seg
        rn, rd, _ = rate(start)
        ideal = Fraction(rd, rn)
        for j in range(count):
            steps.append((start + j * interval, ideal if count > 1 else 0))
        now = start + (count - 1) * interval
    return steps, bounds


rates = st.integers(min_value=0, max_value=400_000_000)  # up to 400 mL/day: a bolus
durations = st.integers(min_value=1, max_value=3_600_000_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(durations, rates), min_size=1, max_size=6))
def test_steps_fire_at_their_exact_due_time(pieces):
    # keep each example small: bound the total number of steps
    total = sum(Fraction(d * r * 1000, USTEP_PL * DAY_US) for d, r in pieces)
    if total > 4000:
        return
    steps, bounds = run(pieces)
    due, acc = exact_due_times(bounds, 10**9)
    due = [t for t in due if t <= bounds[-1][1]]
    assert len(steps) == len(due) == int(acc + Fraction(1, 2))
    for (at, ideal), want in zip(steps, due, strict=True):
        lead = want - at
        assert lead >= 0, "a step fired late"
        assert lead <= (ideal / 64 + 2 if ideal else 0), "a fast step led its due time too far"


def test_a_day_of_basal_is_exact_at_every_hour():
    # 100 mcg/day at 500 mcg/mL = 200 000 nL/day: one step every ~31 s
    steps, bounds = run([(DAY_US, 200_000)])
    times = [t for t, _ in steps]
    for hour in range(1, 25):
        t = hour * 3_600_000_000
        exact = Fraction(200_000 * 1000 * t, USTEP_PL * DAY_US)
        assert sum(1 for s in times if s <= t) == int(exact + Fraction(1, 2))


def test_rate_change_takes_effect_at_its_scheduled_time():
    # slow, then 60x faster from exactly t = 10 min: the first fast step is due
    # by the new rate, not at the slow step that was pending
    ten_min = 600_000_000
    steps, bounds = run([(ten_min, 200_000), (ten_min, 12_000_000)])
    due, _ = exact_due_times(bounds, 10**9)
    after = [t for t, _ in steps if t >= ten_min]
    assert after[0] == due[len(steps) - len(after)]
    assert after[0] - ten_min < 7_300_000  # well before the ~31 s slow interval
