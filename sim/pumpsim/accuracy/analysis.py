"""Accuracy of one run: the plant's ground truth against the exact programme.

On the therapy's time axis (t = 0 when therapy starts), D(t) is the volume the
plant delivered since then and V(t) the volume programmed; err(t) = D(t) - V(t).

- Total: err at the end of the run, against V there.
- Trumpet curves (IEC 60601-2-24): an observation window [a, a + P] delivers
  D(a + P) - D(a) against V(a + P) - V(a) programmed; its deviation is
  err(a + P) - err(a). For each window length P, the maximum and minimum deviation
  over every window position inside the analysis period, in percent of the
  programmed window volume and in microstep volumes.
- Instantaneous: max |err(t)| over the run. D is flat between steps and V never
  decreases, so err's extremes sit just before and just after a step (or at the
  ends of the run): evaluating there covers every instant.

Window positions start on a 30 s grid from the start of the period, as IEC
60601-2-24 samples the delivered mass every 30 s; every window lies wholly inside
the period. A worst case falling between grid points is still bounded by the
instantaneous figure: no window can deviate by more than twice max |err|.
"""

from fractions import Fraction

from .groundtruth import US_PER_S, DeliveredVolume, to_us

WINDOWS_MIN = (2, 5, 11, 19, 31)
WINDOW_STEP_S = 30
SECOND_HOUR_S = (3600, 7200)
# The target: no figure more than one microstep volume from the programme.
LIMIT_USTEPS = 1


def _rounded(x, digits):
    """A float rounded for a deterministic, readable summary (never -0.0)."""
    value = round(float(x), digits)
    return value if value else 0.0


class Run:
    """Delivered and programmed volume on the therapy's time axis (t in us)."""

    def __init__(self, log_rows, expected, t0_s):
        self.delivered = DeliveredVolume(log_rows)
        self.expected = expected
        self.t0_us = to_us(t0_s)
        # what the plant had delivered before therapy started (priming, earlier runs)
        self.base_ul = self.delivered.at(self.t0_us)

    def delivered_ul(self, t_us):
        return self.delivered.at(self.t0_us + t_us) - self.base_ul

    def delivered_before_ul(self, t_us):
        return self.delivered.before(self.t0_us + t_us) - self.base_ul

    def expected_ul(self, t_us):
        return self.expected.volume_ul(Fraction(t_us, US_PER_S))

    def microsteps(self, t_us):
        at = self.delivered.microsteps_at
        return at(self.t0_us + t_us) - at(self.t0_us)

    def step_times_us(self, duration_us):
        """Therapy times in (0, duration] at which the plunger moved."""
        times = self.delivered.step_times(self.t0_us, self.t0_us + duration_us)
        return [t - self.t0_us for t in times]


def error_trace(run, duration_s):
    """Delivered and programmed volume at both ends of the run and just before and
    after every step: [(t_us, delivered_ul, programmed_ul)] in time order. Exhaustive
    for the extremes of err (module docstring)."""
    duration_us = to_us(duration_s)
    trace = [(0, run.delivered_ul(0), float(run.expected_ul(0)))]
    for t in run.step_times_us(duration_us):
        programmed = float(run.expected_ul(t))
        trace.append((t, run.delivered_before_ul(t), programmed))
        trace.append((t, run.delivered_ul(t), programmed))
    trace.append((duration_us, run.delivered_ul(duration_us), float(run.expected_ul(duration_us))))
    return trace


def total(run, ustep_ul, duration_s):
    end_us = to_us(duration_s)
    programmed = run.expected_ul(end_us)
    delivered = run.delivered_ul(end_us)
    error = delivered - float(programmed)
    return {
        "duration_h": _rounded(Fraction(end_us, 3600 * US_PER_S), 6),
        "programmed_ul": _rounded(programmed, 6),
        "delivered_ul": _rounded(delivered, 6),
        "programmed_usteps": _rounded(programmed / Fraction(ustep_ul), 4),
        "delivered_microsteps": run.microsteps(end_us),
        "error_ul": _rounded(error, 6),
        "error_pct": _rounded(100 * error / float(programmed), 4) if programmed else None,
        "error_usteps": _rounded(error / ustep_ul, 4),
    }


def trumpet(run, ustep_ul, period_s, windows_min=WINDOWS_MIN, window_step_s=WINDOW_STEP_S):
    """Max and min window deviation per window length over `period_s` = (start, end)."""
    step_us = to_us(window_step_s)
    start_us, end_us = to_us(period_s[0]), to_us(period_s[1])
    grid = range(start_us, end_us + 1, step_us)
    delivered = [run.delivered_ul(t) for t in grid]
    programmed = [run.expected_ul(t) for t in grid]
    rows = []
    for minutes in windows_min:
        span_us = to_us(minutes * 60)
        if span_us % step_us:
            raise ValueError(f"{minutes} min is not a whole number of {window_step_s} s steps")
        n = span_us // step_us
        pcts = []
        usteps = []
        smallest_programmed = None
        for i in range(len(grid) - n):
            window_programmed = programmed[i + n] - programmed[i]
            deviation = (delivered[i + n] - delivered[i]) - float(window_programmed)
            usteps.append(deviation / ustep_ul)
            # a window with nothing programmed (paused) has no percentage
            if window_programmed > 0:
                pcts.append(100 * deviation / float(window_programmed))
                if smallest_programmed is None or window_programmed < smallest_programmed:
                    smallest_programmed = window_programmed
        if not usteps:
            raise ValueError(f"a {minutes} min window does not fit in the period {period_s!r}")
        rows.append({
            "minutes": minutes,
            "positions": len(usteps),
            "max_pct": _rounded(max(pcts), 4) if pcts else None,
            "min_pct": _rounded(min(pcts), 4) if pcts else None,
            "max_usteps": _rounded(max(usteps), 4),
            "min_usteps": _rounded(min(usteps), 4),
            # one microstep as a percentage of the smallest programmed window: the
            # widest a percentage can swing from a single microstep of quantization
            "one_ustep_pct": (_rounded(100 * Fraction(ustep_ul) / smallest_programmed, 4)
                              if smallest_programmed else None),
        })
    return {"period_s": [period_s[0], period_s[1]], "window_step_s": window_step_s, "windows": rows}


def instantaneous(run, ustep_ul, duration_s):
    errors = [(t, delivered - programmed)
              for t, delivered, programmed in error_trace(run, duration_s)]
    worst_t, worst = max(errors, key=lambda point: abs(point[1]))
    return {
        "max_abs_usteps": _rounded(abs(worst) / ustep_ul, 4),
        "at_s": _rounded(Fraction(worst_t, US_PER_S), 6),
        "max_ahead_usteps": _rounded(max(e for _, e in errors) / ustep_ul, 4),
        "max_behind_usteps": _rounded(min(e for _, e in errors) / ustep_ul, 4),
    }


def analyse(log_rows, expected, ustep_ul, t0_s, duration_s=86_400, windows_min=WINDOWS_MIN,
            window_step_s=WINDOW_STEP_S, scenario=None):
    """Accuracy summary of one run, JSON-ready and deterministic.

    log_rows: groundtruth.LogRow rows of the plant's delivery log; expected: an
    expected.ExpectedDelivery with t = 0 at therapy start; ustep_ul: the volume of
    one microstep the figures are expressed in; t0_s: simulator time at which
    therapy started; scenario: its description, copied into the summary.
    """
    run = Run(log_rows, expected, t0_s)
    periods = {}
    if duration_s >= SECOND_HOUR_S[1]:
        periods["second_hour"] = trumpet(run, ustep_ul, SECOND_HOUR_S, windows_min, window_step_s)
    periods["full_run"] = trumpet(run, ustep_ul, (0, duration_s), windows_min, window_step_s)
    summary = {
        "scenario": scenario,
        "ustep_ul": _rounded(ustep_ul, 9),
        "t0_s": _rounded(Fraction(run.t0_us, US_PER_S), 6),
        "total": total(run, ustep_ul, duration_s),
        "trumpet": periods,
        "instantaneous": instantaneous(run, ustep_ul, duration_s),
    }
    window_extremes = [abs(w[key]) for period in periods.values() for w in period["windows"]
                       for key in ("max_usteps", "min_usteps")]
    summary["within_one_ustep"] = {
        "total": abs(summary["total"]["error_usteps"]) <= LIMIT_USTEPS,
        "windows": max(window_extremes) <= LIMIT_USTEPS,
        "instantaneous": summary["instantaneous"]["max_abs_usteps"] <= LIMIT_USTEPS,
    }
    return summary
