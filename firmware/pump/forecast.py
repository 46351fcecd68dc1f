# When will the reservoir reach a volume at the present programme? Needed for the
# low-reservoir alarm date that clinics book refills against (3-5 days before it).
from pump.therapy import DAY_MS, daily_totals, step_at


def ms_until_used(therapy, now_us, volume_nl, running):
    """Milliseconds until the programme has used `volume_nl`, or None if never.

    Includes a running bolus; a flex programme is walked step by step through the
    partial day, whole days are taken at the programme's daily total.
    """
    if volume_nl <= 0:
        return 0
    prog = therapy.program
    ms = 0
    bolus = therapy.bolus
    if bolus is not None and now_us < bolus["end"]:
        span = bolus["end"] - bolus["start"]
        left = bolus["nl"] * (bolus["end"] - max(now_us, bolus["start"])) // span
        volume_nl -= left
        if volume_nl <= 0:
            return 0
    if not running or prog is None:
        return None
    _, per_day = daily_totals(prog)
    if per_day <= 0:
        return None
    days = volume_nl // per_day
    volume_nl -= days * per_day
    ms = days * DAY_MS
    steps = prog["steps"]
    pos = ((therapy.day_base_us + now_us) // 1000) % DAY_MS
    i = step_at(prog, pos)
    while volume_nl > 0:
        rate = steps[i][2]  # nL/day
        nxt = steps[(i + 1) % len(steps)][0]
        span = (nxt - pos) % DAY_MS or DAY_MS
        use = rate * span // DAY_MS
        if rate and use >= volume_nl:
            return ms + (volume_nl * DAY_MS + rate - 1) // rate
        volume_nl -= use
        ms += span
        pos = nxt
        i = (i + 1) % len(steps)
    return ms
