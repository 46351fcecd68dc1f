"""Accuracy figures as PNG files. Figures are built with matplotlib's object API and
rendered by its Agg canvas, so plotting needs no display and touches no global
pyplot state."""

from matplotlib.figure import Figure

from .analysis import Run, error_trace
from .groundtruth import US_PER_S

_PERIOD_STYLE = {  # period key in the summary -> (legend label, colour)
    "second_hour": ("second hour", "tab:blue"),
    "full_run": ("full run", "tab:orange"),
}


def plot_trumpet(summary, path):
    """Trumpet curves from an `analyse` summary: max and min window deviation against
    window length, in percent (left) and in microstep volumes (right)."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    pct_ax, ustep_ax = fig.subplots(1, 2)
    for key, period in summary["trumpet"].items():
        label, colour = _PERIOD_STYLE[key]
        windows = period["windows"]
        minutes = [w["minutes"] for w in windows]
        with_pct = [w for w in windows if w["max_pct"] is not None]
        pct_minutes = [w["minutes"] for w in with_pct]
        pct_ax.plot(pct_minutes, [w["max_pct"] for w in with_pct], "o-", color=colour,
                    label=label + " max")
        pct_ax.plot(pct_minutes, [w["min_pct"] for w in with_pct], "s--", color=colour,
                    label=label + " min")
        # what a single microstep weighs in that period's smallest programmed window
        envelope = [w["one_ustep_pct"] for w in with_pct]
        pct_ax.fill_between(pct_minutes, [-e for e in envelope], envelope, color=colour, alpha=0.12,
                            label=label + " ±1 microstep")
        ustep_ax.plot(minutes, [w["max_usteps"] for w in windows], "o-", color=colour,
                      label=label + " max")
        ustep_ax.plot(minutes, [w["min_usteps"] for w in windows], "s--", color=colour,
                      label=label + " min")
    ustep_ax.axhspan(-1, 1, color="grey", alpha=0.12, label="±1 microstep")
    for ax in (pct_ax, ustep_ax):
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xlabel("observation window (min)")
        ax.set_xticks([w["minutes"] for w in next(iter(summary["trumpet"].values()))["windows"]])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    pct_ax.set_ylabel("deviation from programmed volume (%)")
    ustep_ax.set_ylabel("deviation (microstep volumes)")
    fig.suptitle("Trumpet curves: " + _title(summary))
    fig.savefig(path, dpi=110)


def plot_delivery(log_rows, expected, ustep_ul, t0_s, path, duration_s=86_400, title=""):
    """Delivered and programmed volume against time (top) and their difference in
    microstep volumes (bottom), over the run."""
    run = Run(log_rows, expected, t0_s)
    trace = error_trace(run, duration_s)
    hours = [t / (3600 * US_PER_S) for t, _, _ in trace]
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    volume_ax, error_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    # the trace holds D just before and just after every step: drawn point to point
    # it is the staircase itself
    volume_ax.plot(hours, [delivered for _, delivered, _ in trace],
                   color="tab:blue", linewidth=1, label="delivered (plant ground truth)")
    corners = [t for t in expected.corners_s() if t <= duration_s]
    volume_ax.plot([float(t) / 3600 for t in corners],
                   [float(expected.volume_ul(t)) for t in corners],
                   color="black", linestyle="--", linewidth=1, label="programmed")
    volume_ax.set_ylabel("volume since therapy start (µL)")
    volume_ax.legend(loc="upper left")
    volume_ax.grid(True, alpha=0.3)
    error_ax.plot(hours, [(d - p) / ustep_ul for _, d, p in trace], color="tab:red", linewidth=0.6)
    for level, style, label in ((0.5, ":", "±½: rounding to the nearest microstep"),
                                (1, "--", "±1: target")):
        for sign in (-1, 1):
            error_ax.axhline(sign * level, color="grey", linestyle=style, linewidth=0.8,
                             label=label if sign > 0 else None)
    error_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False,
                    fontsize="small")
    error_ax.set_ylabel("delivered − programmed\n(microstep volumes)")
    error_ax.set_xlabel("time since therapy start (h)")
    error_ax.grid(True, alpha=0.3)
    fig.suptitle("Delivered volume: " + (title or "run"))
    fig.savefig(path, dpi=110)


def _title(summary):
    scenario = summary.get("scenario") or {}
    return scenario.get("title", "run")
