# Delivery: feeds the planner's segments to the HAL and keeps the reservoir
# account from the HAL's step counter, the only truth about what left the syringe.
#
# Accounting is write-ahead: before the motor may use a stretch of the reservoir,
# the volume that will remain after it is persisted. A power cut at any instant
# therefore restores a reservoir that is at most one reservation (plus a
# microstep) lower than the truth, and never higher.
from pump.planner import Planner

# Segments are handed to the HAL only shortly before they start, so the driver
# can rest (de-energised) between slow basal steps and is energised only while
# it has work: the monitor then only needs to watch those stretches closely.
QUEUE_LEAD_US = 50000
QUEUE_DEPTH = 2


class Delivery:
    def __init__(self, hal, ustep_pl, reserve_nl):
        self.hal = hal
        self.ustep_pl = ustep_pl
        self.reserve_nl = reserve_nl
        self.planner = Planner(hal.step_count())
        # reservoir: volume_nl at the moment the HAL counter read base_steps
        self.volume_nl = 0
        self.base_steps = hal.step_count()
        self.floor_nl = 0  # persisted lower bound: motor may not go below it
        self.delivered_nl = 0  # lifetime, at base_steps
        self.wake = None
        self.energised = False

    def _used_nl(self, steps):
        # rounded up: the account may only err towards an emptier reservoir
        return (steps * self.ustep_pl + 999) // 1000

    def reservoir_nl(self):
        return self.volume_nl - self._used_nl(self.hal.step_count() - self.base_steps)

    def delivered_total_nl(self):
        return self.delivered_nl + (self.hal.step_count() - self.base_steps) * self.ustep_pl // 1000

    def set_reservoir(self, volume_nl):
        """Start a new account (refill, restore): volume is what is there now."""
        self.delivered_nl = self.delivered_total_nl()
        self.base_steps = self.hal.step_count()
        self.volume_nl = volume_nl
        self.floor_nl = volume_nl

    def steps_left(self):
        """Whole microsteps the reservoir still holds, by the (conservative) account."""
        vol = self.reservoir_nl()
        return vol * 1000 // self.ustep_pl if vol > 0 else 0

    def _allowance(self):
        # steps the planner may still hand out before the persisted floor
        usable = (self.volume_nl - self.floor_nl) * 1000 // self.ustep_pl
        return usable - (self.planner.planned - self.base_steps)

    def needs_reservation(self):
        return self._allowance() <= 0 and self.floor_nl > 0

    def reserve(self):
        """Lower the floor by one reservation; the caller persists it before feeding."""
        floor = self.reservoir_nl() - self.reserve_nl
        self.floor_nl = floor if floor > 0 else 0

    def rest(self):
        """De-energise the driver while it has nothing queued (no heat, no holding
        current; the lead screw cannot be back-driven)."""
        if self.energised and self.hal.step_pending() == 0:
            self.hal.driver_enable(False)
            self.energised = False

    def halt(self, now, rate):
        """Stop the motor now; the programme up to `now` is settled under `rate`."""
        self.hal.step_stop()
        self.planner.settle(now, rate)
        self.planner.drop_unemitted(self.hal.step_count())

    def feed(self, clock, rate):
        """Keep the HAL's segment queue full; `self.wake` says when to look again."""
        self.wake = None
        while self.hal.step_pending() < QUEUE_DEPTH:
            seg = self.planner.next_segment(clock.now, rate, QUEUE_LEAD_US, self._allowance())
            if seg is None:
                if self.planner.wake is not None:
                    self.wake = self.planner.wake - QUEUE_LEAD_US
                return
            start, count, interval = seg
            if not self.energised:
                self.hal.driver_enable(True)
                self.energised = True
            self.hal.step_queue(clock.tick_at(start), count, interval)
