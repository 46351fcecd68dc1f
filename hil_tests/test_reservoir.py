"""Issue 4: the reservoir over weeks of fast-forwarded therapy, one virtual day
at a time: refilled on schedule it never runs dry; left alone it raises the low
alarm at the documented 4 mL and stops, empty, on the step the account allows."""

import pytest
from therapy import alarms, first_fill, raised, refill, start_continuous, status

# weeks of fast-forwarded therapy: minutes on the MicroPython VM (see docs/hil.md)
pytestmark = pytest.mark.long

DAY_MS = 86_400_000
LOW_NL = 4_000_000  # docs/protocol.md and firmware/pump/limits.py: low_reservoir_nl
RESERVE_NL = 10_000  # firmware/pump/controller.py: the account's bound below the truth


@pytest.mark.rig
def test_forty_days_refilled_every_thirty_never_run_dry(rig, pump):
    # 800 mcg/day at 2000 mcg/mL is 0.4 mL/day: 18 mL lasts 45 days, 30 of them
    # leave 6 mL, above the low threshold.
    first_fill(pump, rig, vol="18mL", conc="2000mcg/mL")
    start_continuous(pump, dose="800mcg/day", conc="2000mcg/mL")
    last = rig.call("truth")["microsteps"]
    for day in range(1, 41):
        rig.call("advance", ms=DAY_MS)
        if day % 30 == 0:
            _, _, _, result = refill(pump, rig, vol="18mL", conc="2000mcg/mL")
            assert result.fields["reservoir_nl"] == "18000000"
        now = rig.call("truth")["microsteps"]
        assert now > last, f"day {day}: no delivery"
        last = now
        assert status(pump)["state"] == "RUNNING", f"day {day}"
        active = alarms(pump)
        assert "RES_EMPTY" not in active and "RES_LOW" not in active, f"day {day}: {active}"
    assert raised(pump.drain_unsolicited(), "RES_EMPTY") == []
    assert rig.call("truth")["lost_pulses"] == 0


@pytest.mark.rig
def test_without_a_refill_low_at_the_threshold_then_empty_at_the_right_step(rig, pump):
    # 800 mcg/day at 500 mcg/mL is 1.6 mL/day: 18 mL is low after 8.75 days,
    # empty after 11.25.
    first_fill(pump, rig, vol="18mL", conc="500mcg/mL")
    start_continuous(pump, dose="800mcg/day", conc="500mcg/mL")
    start = status(pump)
    predicted_low_rtc, prev_nl = int(start["low_alarm_rtc"]), int(start["reservoir_nl"])
    pump.drain_unsolicited()
    lines, low_day, empty_day = [], None, None
    for day in range(1, 14):
        rig.call("advance", ms=DAY_MS)
        now = status(pump)
        lines += pump.drain_unsolicited()
        left_nl, active = int(now["reservoir_nl"]), alarms(pump)
        if low_day is None and "RES_LOW" in active:
            low_day = day
            assert active["RES_LOW"]["prio"] == "MEDIUM"
            assert left_nl <= LOW_NL < prev_nl, "low alarm a day late or early"
        if "RES_EMPTY" in active:
            empty_day = day
            assert active["RES_EMPTY"]["prio"] == "HIGH" and now["state"] == "STOPPED"
            break
        prev_nl = left_nl
    assert (low_day, empty_day) == (9, 12)
    # Raised as the account crossed 4 mL, when the refill-time forecast said.
    (low,) = raised(lines, "RES_LOW")
    assert int(low["since"]) == pytest.approx(predicted_low_rtc, abs=60)
    assert LOW_NL - RESERVE_NL < int(low["detail"].split()[0]) <= LOW_NL
    assert len(raised(lines, "RES_EMPTY")) == 1
    # Empty by the account within one reservation of the plant's real capacity
    # for 18 mL, never past it: the plunger never hit its stop.
    truth = rig.call("truth")
    full_steps = 18_000 / truth["ul_per_microstep"]
    assert 0 <= full_steps - truth["microsteps"] <= RESERVE_NL / 1000 / truth["ul_per_microstep"]
    assert truth["lost_pulses"] == 0 and not truth["stalled"]
    assert int(status(pump)["reservoir_nl"]) / 1000 <= truth["reservoir_ul"]
    # Delivery stays stopped.
    rig.call("advance", ms=DAY_MS)
    assert rig.call("truth")["microsteps"] == truth["microsteps"]
