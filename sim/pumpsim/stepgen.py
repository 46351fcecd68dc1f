"""Step-pulse generator of the simulated MCU, in absolute virtual time.

A segment is stored in absolute virtual microseconds, so the number of pulses
emitted by any instant is plain arithmetic: no per-step work happens unless a
caller asks for the individual pulse times (the delivery log).

Invariant kept by the caller: `collect(now)` runs after every change of `now`
and after every `queue`, so every pulse at or before `now` has been handed to
the plant exactly once.
"""

from collections import deque

QUEUE_DEPTH = 2


class Segment:
    __slots__ = ("start", "count", "interval", "last", "collected")

    def __init__(self, start, count, interval):
        self.start = start
        self.count = count
        self.interval = interval
        self.last = start + (count - 1) * interval
        self.collected = 0  # pulses already handed to the plant

    def emitted_by(self, t):
        """Pulses of this segment emitted at or before virtual time `t`."""
        if t < self.start:
            return 0
        if self.interval == 0:
            return self.count
        return min(self.count, (t - self.start) // self.interval + 1)


class StepGenerator:
    """Queue of segments; a pulse at time t counts as emitted once now >= t."""

    def __init__(self):
        self._segments = deque()
        self._retired = 0  # pulses of segments that finished or were stopped

    def queue(self, start, count, interval, now):
        """Append a segment starting at absolute `start`; False if the queue is full.

        Like hardware, a start already in the past means "now", and a segment
        cannot begin before the previous one has emitted its last pulse.
        """
        if count < 0 or interval < 0 or (count > 1 and interval == 0):
            raise ValueError(f"bad step segment count={count!r} interval_us={interval!r}")
        if len(self._segments) >= QUEUE_DEPTH:
            return False
        if count == 0:
            return True
        start = max(start, now)
        if self._segments:
            start = max(start, self._segments[-1].last + 1)
        self._segments.append(Segment(start, count, interval))
        return True

    def collect(self, now):
        """Pulses emitted up to `now` not collected before, as (start, interval, first, end)
        spans (pulse k of a span is at start + k * interval); retires finished segments."""
        spans = []
        for s in self._segments:
            e = s.emitted_by(now)
            if e > s.collected:
                spans.append((s.start, s.interval, s.collected, e))
                s.collected = e
        segs = self._segments
        while segs and segs[0].last <= now:
            self._retired += segs.popleft().count
        return spans

    def pending(self):
        return len(self._segments)

    def emitted(self):
        return self._retired + sum(s.collected for s in self._segments)

    def add_uncommanded(self, n):
        """Pulses nobody queued (rig fault `runaway`): the counter sees them too,
        as a board's counter sees every pulse on the STEP line."""
        self._retired += n

    def stop(self):
        self._retired = self.emitted()
        self._segments.clear()

    def next_finish(self):
        """Virtual time at which the running segment emits its last pulse, or None."""
        return self._segments[0].last if self._segments else None
