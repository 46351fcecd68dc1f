# Independent delivery monitor. It re-derives, from the prescription itself (the
# programme's steps, the bolus and priming records, the run state) and with its
# own simpler arithmetic, the volume the therapy allows up to now, and compares
# it with the HAL's step counter. It shares no code with the planner, so a
# planner bug, a runaway step generator or a stuck timer shows up as excess.
#
# Allowed volume is accumulated in picolitres and rounded up on every interval,
# so the monitor can only err towards allowing slightly more (a few pL a day),
# never towards a false alarm. The planner may lead the exact programme by under
# one microstep; MARGIN_NL sits far above that and far below the 10 uL at which
# Prometra II's valve shuts: the loop checks at least every CHECK_MS while the
# driver is energised, so a runaway of R uL/s is stopped within
# MARGIN_NL + R * CHECK_MS of excess.
from pump.therapy import DAY_US, step_at

MARGIN_NL = 2000
CREDIT_USTEPS = 4
CHECK_MS = 100


def _ceil_div(a, b):
    return -(-a // b)


class DeliveryMonitor:
    def __init__(self, ustep_pl, now, emitted):
        self.ustep_pl = ustep_pl
        self.restart(now, emitted)

    def restart(self, now, emitted):
        self.t = now
        self.base = emitted
        self.allowed_pl = 0

    def _basal_span(self, therapy, t, end):
        """(pL allowed for [t, span_end), span_end): one basal rate at a time."""
        prog = therapy.program
        if therapy.state != "RUNNING" or therapy.hold or prog is None:
            return 0, end
        steps = prog["steps"]
        pos = (therapy.day_base_us + t) % DAY_US
        i = step_at(prog, pos // 1000)
        if len(steps) > 1:
            boundary = t + (steps[(i + 1) % len(steps)][0] * 1000 - pos) % DAY_US
            if boundary < end:
                end = boundary
        return _ceil_div(steps[i][2] * 1000 * (end - t), DAY_US), end

    def advance(self, now, therapy):
        """Add what the prescription allowed between the last call and `now`."""
        t = self.t
        while t < now:
            pl, end = self._basal_span(therapy, t, now)
            if not therapy.hold:
                for extra in (therapy.bolus, therapy.prime):
                    if extra is None:
                        continue
                    lo = t if t > extra["start"] else extra["start"]
                    hi = end if end < extra["end"] else extra["end"]
                    if hi > lo:
                        span = extra["end"] - extra["start"]
                        pl += _ceil_div(extra["nl"] * 1000 * (hi - lo), span)
            self.allowed_pl += pl
            t = end
        self.t = now

    def excess_nl(self, emitted):
        """Volume emitted beyond what the prescription allowed (negative: less).

        Folds the counted steps into the allowance so both stay small integers,
        and caps the credit an under-delivering pump can bank at a few
        microsteps: a stall must not let a later runaway go unnoticed."""
        self.allowed_pl -= (emitted - self.base) * self.ustep_pl
        self.base = emitted
        cap = CREDIT_USTEPS * self.ustep_pl
        if self.allowed_pl > cap:
            self.allowed_pl = cap
        return -self.allowed_pl // 1000

    def over_delivering(self, emitted):
        return self.excess_nl(emitted) > MARGIN_NL
