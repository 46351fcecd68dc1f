"""The plant's ground-truth delivery log (pumpsim.deliverylog) as a step function.

Each row is (t_s, microsteps, delivered_ul), cumulative since the simulator
started. The plunger moves in whole microsteps, so the delivered volume jumps at
each row's time and is flat in between: no interpolation between rows. Times are
kept as integer microseconds, the log's own resolution, so that comparing them
with the exact programmed delivery adds no rounding.
"""

import bisect
import csv
import itertools
from fractions import Fraction
from typing import NamedTuple

US_PER_S = 1_000_000


class LogRow(NamedTuple):
    t_us: int
    microsteps: int
    delivered_ul: float


def to_us(t_s):
    """Seconds (int, float, decimal string or Fraction) as whole microseconds."""
    return round(Fraction(t_s.strip() if isinstance(t_s, str) else t_s) * US_PER_S)


def read_delivery_log(path):
    """Rows of a delivery-log CSV with header t_s,microsteps,delivered_ul."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        expected_header = ["t_s", "microsteps", "delivered_ul"]
        if reader.fieldnames != expected_header:
            raise ValueError(f"{path}: header {reader.fieldnames!r}, expected {expected_header!r}")
        return [LogRow(to_us(r["t_s"]), int(r["microsteps"]), float(r["delivered_ul"]))
                for r in reader]


class DeliveredVolume:
    """Cumulative delivered volume D(t): 0 before the first row, then each row's value
    from its time on (right-continuous, so D at a step's time includes the step)."""

    def __init__(self, rows):
        self.t_us = [row.t_us for row in rows]
        if any(b < a for a, b in itertools.pairwise(self.t_us)):
            raise ValueError("delivery log rows are not in time order")
        self.ul = [row.delivered_ul for row in rows]
        self.microsteps = [row.microsteps for row in rows]

    def _index_at(self, t_us):
        return bisect.bisect_right(self.t_us, t_us) - 1

    def at(self, t_us):
        """Volume delivered up to and including `t_us`."""
        i = self._index_at(t_us)
        return self.ul[i] if i >= 0 else 0.0

    def before(self, t_us):
        """Volume delivered strictly before `t_us`."""
        i = bisect.bisect_left(self.t_us, t_us) - 1
        return self.ul[i] if i >= 0 else 0.0

    def microsteps_at(self, t_us):
        i = self._index_at(t_us)
        return self.microsteps[i] if i >= 0 else 0

    def step_times(self, after_us, until_us):
        """Distinct row times in (after_us, until_us]: where D jumps."""
        lo = bisect.bisect_right(self.t_us, after_us)
        hi = bisect.bisect_right(self.t_us, until_us)
        return sorted(set(self.t_us[lo:hi]))
