"""Issue 3: programmed delivery checked against the plant's ground truth after
fast-forwarded days. Exact microstep counts: the planner must not drift."""

import pytest
from therapy import confirm, first_fill, start_continuous

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def microsteps(rig):
    return rig.call("truth")["microsteps"]


def exact_steps(nl, pump):
    return nl * 1000 / int(pump.request("STATUS").fields["ustep_pl"])


@pytest.mark.rig
@pytest.mark.parametrize("dose, conc, nl_day", [("100mcg/day", "500mcg/mL", 200_000),
                                                ("800mcg/day", "2000mcg/mL", 400_000)])
def test_every_hour_of_two_days_delivers_the_programmed_volume(rig, pump, dose, conc, nl_day):
    first_fill(pump, rig, conc=conc)
    start_continuous(pump, dose=dose, conc=conc)
    s0 = microsteps(rig)
    per_step = exact_steps(1, pump)
    for hour in range(1, 49):
        rig.call("advance", ms=HOUR_MS)
        assert microsteps(rig) - s0 == round(nl_day * per_step * hour / 24), f"hour {hour}"


@pytest.mark.rig
def test_flex_day_with_a_screening_bolus_matches_its_total(rig, pump):
    first_fill(pump, rig)
    # start the day at midnight of the device clock so the flex steps line up
    rtc = int(pump.request("CLOCK").fields["rtc_s"])
    rig.call("advance", ms=(86_400 - rtc % 86_400) * 1000)
    review, _ = confirm(pump, "PROGRAM", "FLEX", conc="500mcg/mL",
                        steps="00:00@100mcg/day,06:00@150mcg/day,12:00@120mcg/day,18:00@200mcg/day")
    assert review.fields["total_nl_day"] == "285000"
    confirm(pump, "START")
    s0 = microsteps(rig)
    rig.call("advance", ms=11 * HOUR_MS)
    confirm(pump, "BOLUS", dose="50mcg", over="1min")
    rig.call("advance", ms=13 * HOUR_MS)
    total_nl = 285_000 + 100_000
    assert microsteps(rig) - s0 == round(exact_steps(total_nl, pump))
    truth = rig.call("truth")
    assert truth["delivered_ul"] == pytest.approx(total_nl / 1000, abs=truth["ul_per_microstep"])
