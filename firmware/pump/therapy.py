# Therapy programmes and the rate they ask for at any instant. Doses are ng/day
# (1 mcg = 1000 ng), volumes nL, times us on the controller clock. A programme is
# a plain dict so it persists as JSON unchanged:
#   {"kind": "CONT"|"FLEX", "conc": mcg/mL, "steps": [[start_ms_of_day, ng_day, nl_day], ...]}
from pump.request import ProtocolError

DAY_MS = 86400000
DAY_US = 86400000000
MAX_FLEX_STEPS = 13


def volume_nl(dose_ng, conc):
    """Volume holding `dose_ng` at `conc` mcg/mL (= ng/uL), rounded to the nearest nL."""
    return (2000 * dose_ng + conc) // (2 * conc)


def make_program(kind, conc, steps):
    """Validate and complete a basal programme; steps are (start_ms, ng_day) pairs."""
    if kind == "CONT" and len(steps) != 1:
        raise ProtocolError("E_ARG", "a continuous programme has one daily dose")
    if not 1 <= len(steps) <= MAX_FLEX_STEPS:
        raise ProtocolError("E_RANGE", "a flex programme has 1 to 13 steps")
    out = []
    last = -1
    for start, ng in steps:
        if start <= last:
            raise ProtocolError("E_ARG", "flex step times must increase through the day")
        last = start
        out.append([start, ng, volume_nl(ng, conc)])
    return {"kind": kind, "conc": conc, "steps": out}


def daily_totals(program):
    """(ng, nL) the programme delivers per 24 h, rounded to the nearest unit."""
    steps = program["steps"]
    ng = 0
    nl = 0
    for i in range(len(steps)):
        start = steps[i][0]
        end = steps[i + 1][0] if i + 1 < len(steps) else steps[0][0] + DAY_MS
        ng += steps[i][1] * (end - start)
        nl += steps[i][2] * (end - start)
    return (2 * ng + DAY_MS) // (2 * DAY_MS), (2 * nl + DAY_MS) // (2 * DAY_MS)


def step_at(program, day_ms):
    """Index of the flex step in force at `day_ms` after midnight (cyclic)."""
    steps = program["steps"]
    idx = len(steps) - 1
    for i in range(len(steps)):
        if steps[i][0] <= day_ms:
            idx = i
    return idx


def _sum(an, ad, bn, bd):
    return an * bd + bn * ad, ad * bd


def _earliest(a, b):
    if a is None:
        return b
    if b is None or a < b:
        return a
    return b


class Therapy:
    """What the pump is asked to deliver: basal programme, bolus, priming, run state."""

    def __init__(self, ustep_pl):
        self.ustep_pl = ustep_pl
        self.program = None
        self.state = "STOPPED"  # STOPPED, RUNNING, PAUSED, PRIMING
        self.reason = "never started"
        self.bolus = None  # {"ng":, "nl":, "start": us, "end": us}
        self.prime = None  # {"nl":, "start": us, "end": us}
        self.day_base_us = 0  # wall-clock position in the day at controller time 0
        self.hold = False  # a refill holds delivery without changing the therapy
        self.started_rtc = 0  # when therapy first ran (titration rules count from it)
        self.last_increase_rtc = 0  # last confirmed dose increase (one per 24 h)
        self.boluses = []  # device-clock seconds of recent boluses (lockout, count)

    def basal_rate(self, t):
        """(num, den, until): basal microsteps per us at t, and when that changes."""
        if self.state != "RUNNING" or self.program is None:
            return 0, 1, None
        steps = self.program["steps"]
        pos = (self.day_base_us + t) % DAY_US
        i = step_at(self.program, pos // 1000)
        until = None
        if len(steps) > 1:
            nxt = steps[(i + 1) % len(steps)][0] * 1000
            until = t + (nxt - pos) % DAY_US
        return steps[i][2] * 1000, self.ustep_pl * DAY_US, until

    def rate(self, t):
        if self.hold:
            return 0, 1, None
        rn, rd, until = self.basal_rate(t)
        for extra in (self.bolus, self.prime):
            if extra is None or t >= extra["end"]:
                continue
            if t < extra["start"]:
                until = _earliest(until, extra["start"])
                continue
            span = extra["end"] - extra["start"]
            rn, rd = _sum(rn, rd, extra["nl"] * 1000, self.ustep_pl * span)
            until = _earliest(until, extra["end"])
        return rn, rd, until
