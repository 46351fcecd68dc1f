"""The accuracy benchmark's therapies (issue 3), and the analysis of one simulator run.

Each scenario is 24 hours of therapy starting at 00:00 on the device clock:
- 100 mcg/day at 500 mcg/mL: a low adult dose at the common concentration, a
  microstep about every 31 s;
- 800 mcg/day at 2000 mcg/mL: top of the usual adult range, concentrated;
- a 4-step flex schedule at 500 mcg/mL with a 50 mcg bolus over 1 minute at 11:00
  (the first screening test dose, given on top of the basal rate).
"""

import json
from dataclasses import dataclass
from pathlib import Path

from ..board import load_mechanics
from ..runtime import DEFAULT_FIRMWARE_DIR
from .analysis import analyse
from .expected import Bolus, FlexStep, Programme, build_expected
from .groundtruth import read_delivery_log
from .plots import plot_delivery, plot_trumpet


@dataclass(frozen=True)
class Scenario:
    name: str  # file-name stem of its outputs
    title: str
    programme: Programme

    def describe(self):
        return {"name": self.name, "title": self.title, **self.programme.describe()}


CONTINUOUS_LOW = Scenario(
    "continuous-100mcg-500",
    "100 mcg/day at 500 mcg/mL",
    Programme(conc_mcg_ml=500, basal=(FlexStep("00:00", 100),)),
)
CONTINUOUS_HIGH = Scenario(
    "continuous-800mcg-2000",
    "800 mcg/day at 2000 mcg/mL",
    Programme(conc_mcg_ml=2000, basal=(FlexStep("00:00", 800),)),
)
FLEX_WITH_BOLUS = Scenario(
    "flex-4step-bolus",
    "flex 100/150/120/200 mcg/day at 500 mcg/mL, 50 mcg bolus over 1 min at 11:00",
    Programme(
        conc_mcg_ml=500,
        basal=(FlexStep("00:00", 100), FlexStep("06:00", 150), FlexStep("12:00", 120),
               FlexStep("18:00", 200)),
        boluses=(Bolus(start_s=11 * 3600, dose_mcg=50, duration_s=60),),
    ),
)
SCENARIOS = (CONTINUOUS_LOW, CONTINUOUS_HIGH, FLEX_WITH_BOLUS)


def firmware_ustep_ul(firmware_dir=DEFAULT_FIRMWARE_DIR):
    """The microstep volume the firmware works with (its integer picolitres), in uL:
    the unit every accuracy figure is expressed in."""
    return load_mechanics(firmware_dir)["ustep_pl"] / 1e6


def run_scenario(scenario, out_dir, delivery_log, t0_s, ustep_ul=None):
    """Analyse one simulator run of `scenario`; write its figures and summary.

    `delivery_log` is the CSV the simulator wrote with --delivery-log (or
    Simulator(delivery_log=...)) while running the scenario's programme; `t0_s` is
    the simulator time, in seconds, at which the therapy started. The expected
    delivery assumes the device clock read `programme.start_clock` at t0_s and each
    bolus started `start_s` after t0_s; a run that could not honour those times must
    pass a scenario rebuilt with `dataclasses.replace` holding the times it used.

    Writes <name>-trumpet.png, <name>-delivery.png and <name>.json into `out_dir`
    and returns the summary dict.
    """
    if ustep_ul is None:
        ustep_ul = firmware_ustep_ul()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = read_delivery_log(delivery_log)
    expected = build_expected(scenario.programme)
    duration = scenario.programme.duration_s
    summary = analyse(rows, expected, ustep_ul, t0_s, duration, scenario=scenario.describe())
    plot_trumpet(summary, out / (scenario.name + "-trumpet.png"))
    plot_delivery(rows, expected, ustep_ul, t0_s, out / (scenario.name + "-delivery.png"),
                  duration, scenario.title)
    (out / (scenario.name + ".json")).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
