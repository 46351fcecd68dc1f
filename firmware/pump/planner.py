# Step planner. The programme is a piecewise-constant rate of microsteps per
# microsecond (an exact fraction: no float, no drift); A(t) is the exact number of
# microsteps it has asked for by time t. Step k is due at the first whole
# microsecond where A(t) >= k - 1/2, so at any instant the steps emitted equal A
# rounded to the nearest microstep, whatever rate changes came in between.
#
# The HAL emits segments (start, count, interval). A slow rate gets one step per
# segment at its exact due time (CPU deadline). A fast rate gets a run of steps at
# a constant whole-microsecond interval whose first and last steps are the exact
# due times rounded down, and which never leads a step's due time by more than
# 1/64 of the step interval: exact at every segment boundary, sub-microstep in
# between. These fractions outgrow the small-int range, but they are computed
# once per segment in the main loop, never in an interrupt.

SINGLE_STEP_US = 20000  # slower than 50 steps/s: one CPU-timed step per segment
WINDOW_US = 1000000  # a fast segment spans at most one second
LEAD_DIV = 64  # a fast segment leads due times by at most interval/LEAD_DIV


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def add(an, ad, bn, bd):
    """an/ad + bn/bd, reduced."""
    n = an * bd + bn * ad
    d = ad * bd
    g = gcd(n, d)
    return n // g, d // g


def _due(an, ad, rn, rd, k):
    """Microseconds after a point where A = an/ad, at rate rn/rd, until A >= k - 1/2."""
    num = ((2 * k - 1) * ad - 2 * an) * rd
    if num <= 0:
        return 0
    den = 2 * ad * rn
    return (num + den - 1) // den


class Planner:
    def __init__(self, emitted):
        # emitted: microsteps the HAL has emitted since the epoch (its counter)
        self.t0 = 0  # anchor instant (us, controller clock)
        self.an = emitted  # A at the anchor, as a fraction an/ad
        self.ad = 1
        self.planned = emitted  # steps handed to the HAL so far

    def restart(self, now, emitted):
        """Forget the programme's history: A(now) is what was really emitted."""
        self.t0 = now
        self.an = emitted
        self.ad = 1
        self.planned = emitted

    def settle(self, now, rate):
        """Integrate A up to `now` under `rate`; call before the programme changes."""
        self.an, self.ad = self.target(now, rate)
        self.t0 = now

    def target(self, now, rate):
        """Exact microsteps asked for by `now`, as a fraction (without moving the anchor)."""
        t = self.t0
        an, ad = self.an, self.ad
        while t < now:
            rn, rd, until = rate(t)
            end = now if until is None or until > now else until
            if rn:
                an, ad = add(an, ad, rn * (end - t), rd)
            t = end
        return an, ad

    def drop_unemitted(self, emitted):
        """After the HAL was stopped: steps planned but not emitted are forgotten."""
        self.planned = emitted

    def next_segment(self, now, rate, horizon_us, budget):
        """Plan the next segment: (start_us, count, interval_us) or None.

        Returns None if no step falls due before now + horizon_us (then
        `self.wake` says when to look again, or is None for never) or if
        `budget` (steps the reservoir can still give) is exhausted.
        """
        self.wake = None
        if budget <= 0:
            return None
        k = self.planned + 1
        t = self.t0
        an, ad = self.an, self.ad
        limit = now + horizon_us
        while True:
            rn, rd, until = rate(t)
            if rn:
                due = t + _due(an, ad, rn, rd, k)
                if until is None or due <= until:
                    break
            if until is None:
                return None
            if until > limit:
                self.wake = until
                return None
            if rn:
                an, ad = add(an, ad, rn * (until - t), rd)
            t = until
            if until <= now:
                # the programme before `now` can no longer change: move the anchor
                self.t0, self.an, self.ad = t, an, ad
        if due > limit:
            self.wake = due
            return None
        start = due if due > now else now
        count = 1
        interval = 0
        if rd < SINGLE_STEP_US * rn:
            # fast: as many steps as stay within the lead bound, the window,
            # the piece and the budget
            count = 1 + rd // (rn * LEAD_DIV)
            in_window = 1 + (WINDOW_US * rn) // rd
            if in_window < count:
                count = in_window
            if count > budget:
                count = budget
            if until is not None:
                # steps due by the end of the piece: round(A(until)) - (k - 1)
                en, ed = add(an, ad, rn * (until - t), rd)
                fit = (2 * en + ed) // (2 * ed) - k + 1
                if fit < count:
                    count = fit
            if count > 1:
                last = t + _due(an, ad, rn, rd, k + count - 1)
                interval = (last - due) // (count - 1)
        self.planned += count
        return start, count, interval
