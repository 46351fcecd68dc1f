"""Issue 5: device faults injected through the rig (docs/rig.md, "Faults") and
what the firmware does about them: the delivery monitor stops a runaway motor,
the watchdog recovers a hung loop with therapy resumed, a stall or occlusion
raises STALL, a torn state save falls back to the older copy, and two corrupted
copies raise MEMORY without the pump guessing a reservoir or a therapy."""

import pytest
from therapy import alarms, confirm, first_fill, raised, start_continuous, status

from pumphost.errors import PumpError

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
# firmware/pump/monitor.py: the monitor trips beyond MARGIN_NL and looks at least
# every CHECK_MS while the driver is energised; issue 5 (Prometra II) wants any
# over-delivery caught within 10 uL.
MARGIN_UL = 2.0
CHECK_S = 0.1
LIMIT_UL = 10.0
# 100 mcg/day at 500 mcg/mL (start_continuous's default)
BASAL_UL_DAY = 200.0


def basal_steps(ul_per_microstep, ms):
    return BASAL_UL_DAY * ms / 86_400_000 / ul_per_microstep


def running_pump(pump, rig):
    first_fill(pump, rig)
    start_continuous(pump)
    rig.call("advance", ms=HOUR_MS)
    pump.drain_unsolicited()
    return rig.call("truth")


@pytest.mark.rig
@pytest.mark.parametrize(
    "steps_per_s, bolus",
    [(50, False), (500, False), (500, True)],
    ids=["slow-runaway-basal", "runaway-basal", "runaway-during-bolus"],
)
def test_runaway_is_stopped_within_the_margin_and_held_until_reset(rig, pump, steps_per_s, bolus):
    before = running_pump(pump, rig)
    bolus_ul = 0.0
    if bolus:  # the driver stays energised: the runaway runs continuously
        confirm(pump, "BOLUS", dose="50mcg", over="1min")
        bolus_ul = 100.0  # 50 mcg at 500 mcg/mL, over 60 s from now
    rig.call("runaway", steps_per_s=steps_per_s)
    # Fine steps first, so the instant of the trip (and so what the programme
    # allowed up to it) is known to 100 ms while a bolus runs.
    for ms in [100] * 100 + [MINUTE_MS] * 30:
        rig.call("advance", ms=ms)
        if status(pump)["state"] == "FAULT":
            break
    truth = rig.call("truth")
    elapsed_s = (truth["now_us"] - before["now_us"]) / 1e6
    programmed_ul = BASAL_UL_DAY * elapsed_s / 86_400 + bolus_ul * min(elapsed_s, 60) / 60
    excess_ul = truth["delivered_ul"] - before["delivered_ul"] - programmed_ul
    runaway_ul_s = steps_per_s * truth["ul_per_microstep"]
    # the documented bound, plus one microstep of a basal step in flight
    bound_ul = MARGIN_UL + runaway_ul_s * CHECK_S + truth["ul_per_microstep"]
    assert 0 < excess_ul <= min(LIMIT_UL, bound_ul)
    assert status(pump)["state"] == "FAULT"
    assert alarms(pump)["OVER_DELIVERY"]["prio"] == "HIGH"
    assert truth["driver_enabled"] is False
    # Held: nothing more reaches the patient, whatever the stuck timer does,
    # and START is refused until a technician has reset the fault.
    rig.call("advance", ms=HOUR_MS)
    assert rig.call("truth")["microsteps"] == truth["microsteps"]
    with pytest.raises(PumpError) as refused:
        pump.request("START")
    assert refused.value.code == "E_STATE"
    rig.call("runaway", steps_per_s=0)  # the technician finds and fixes the cause
    confirm(pump, "RESET", reason="stuck step timer replaced")
    assert status(pump)["state"] == "STOPPED"
    rig.call("advance", ms=HOUR_MS)
    assert rig.call("truth")["microsteps"] == truth["microsteps"]
    confirm(pump, "START")
    assert status(pump)["state"] == "RUNNING"
    # The planner counts the runaway's steps as delivered, so it first holds
    # back what was given too much; after that it delivers at the programmed rate.
    rig.call("advance", ms=HOUR_MS)
    mid = rig.call("truth")
    assert mid["microsteps"] > truth["microsteps"]
    rig.call("advance", ms=HOUR_MS)
    steps = rig.call("truth")["microsteps"] - mid["microsteps"]
    assert steps == pytest.approx(basal_steps(mid["ul_per_microstep"], HOUR_MS), abs=2)


@pytest.mark.rig
def test_a_hung_loop_is_reset_by_the_watchdog_and_therapy_resumes(rig, pump):
    before = running_pump(pump, rig)
    boots = rig.call("mcu")["boots"]
    rig.call("hang")
    # The firmware sleeps until its next step is due, but in stepped mode its
    # idle ends at every advance target: its next HAL call, 1 ms on, hangs.
    rig.call("advance", ms=1)
    assert (rig.call("mcu")["hung"], rig.call("mcu")["boots"]) == (True, boots)
    rig.call("advance", ms=4_999)
    assert rig.call("mcu")["boots"] == boots  # bitten 5 s after the last feed
    rig.call("advance", ms=1)
    mcu = rig.call("mcu")
    assert (mcu["boots"], mcu["reset_cause"], mcu["hung"]) == (boots + 1, "watchdog", False)
    restarted = alarms(pump)["RESTARTED"]
    assert restarted["prio"] == "MEDIUM"
    assert "watchdog" in restarted["detail"] and "RUNNING" in restarted["detail"]
    assert status(pump)["state"] == "RUNNING"
    # Delivering again at the programmed rate, and nothing was lost meanwhile:
    # over the whole stretch the plant got the programme's volume.
    mid = rig.call("truth")
    rig.call("advance", ms=HOUR_MS)
    after = rig.call("truth")
    per_hour = basal_steps(after["ul_per_microstep"], HOUR_MS)
    assert after["microsteps"] - mid["microsteps"] == pytest.approx(per_hour, abs=2)
    total_ms = (after["now_us"] - before["now_us"]) // 1000
    expected = basal_steps(after["ul_per_microstep"], total_ms)
    assert after["microsteps"] - before["microsteps"] == pytest.approx(expected, abs=2)


@pytest.mark.rig
@pytest.mark.parametrize("fault", ["stall", "occlude"])
def test_stall_or_occlusion_while_delivering_raises_a_high_stall_alarm(rig, pump, fault):
    truth = running_pump(pump, rig)
    rig.call(fault, on=True)
    rig.call("advance", ms=5 * MINUTE_MS)
    status(pump)  # the pushed lines arrive with the next reply
    (alarm, *_) = raised(pump.drain_unsolicited(), "STALL")
    assert alarm["prio"] == "HIGH"
    after = rig.call("truth")
    assert after["lost_pulses"] > 0 and after["microsteps"] == truth["microsteps"]


@pytest.mark.rig
@pytest.mark.parametrize("fault", ["stall", "occlude"])
def test_the_stall_alarm_stays_up_while_the_fault_lasts(rig, pump, fault):
    running_pump(pump, rig)
    rig.call(fault, on=True)
    rig.call("advance", ms=5 * MINUTE_MS)
    assert alarms(pump)["STALL"]["prio"] == "HIGH"
    rig.call(fault, on=False)
    rig.call("advance", ms=5 * MINUTE_MS)
    assert "STALL" not in alarms(pump)


@pytest.mark.rig
def test_a_torn_state_save_leaves_the_older_copy_and_therapy_resumes(rig, pump):
    running_pump(pump, rig)
    boots = rig.call("mcu")["boots"]
    # The next flash write of a running pump is its next write-ahead
    # reservation (every 10 uL, 72 minutes at 200 uL/day): tear it mid-record.
    rig.call("tear", bytes=40)
    rig.call("advance", ms=2 * HOUR_MS)
    (tear,) = rig.call("flash")["tears"]
    assert tear["file"] == "state.tmp" and tear["kept"] == 40 < tear["of"]
    mcu = rig.call("mcu")
    assert (mcu["boots"], mcu["reset_cause"]) == (boots + 1, "power_on")
    active = alarms(pump)
    assert "MEMORY" not in active and "watchdog" not in active["RESTARTED"]["detail"]
    assert status(pump)["state"] == "RUNNING"
    truth = rig.call("truth")
    assert int(status(pump)["reservoir_nl"]) / 1000 <= truth["reservoir_ul"]
    rig.call("advance", ms=HOUR_MS)
    steps = rig.call("truth")["microsteps"] - truth["microsteps"]
    assert steps == pytest.approx(basal_steps(truth["ul_per_microstep"], HOUR_MS), abs=2)


@pytest.mark.rig
def test_both_state_copies_corrupted_raise_memory_and_assume_nothing(rig, pump):
    running_pump(pump, rig)
    files = rig.call("flash")["files"]
    assert {"state.a", "state.b"} <= set(files)
    rig.call("corrupt", file="state.a")
    rig.call("corrupt", file="state.b")
    rig.call("power_cut")
    memory = alarms(pump)["MEMORY"]
    assert memory["prio"] == "HIGH"
    s = status(pump)
    # no therapy and no drug assumed: a refill must measure the reservoir again
    assert (s["state"], s["program"], s["conc_mcg_ml"]) == ("STOPPED", "NONE", "0")
    truth = rig.call("truth")
    assert int(s["reservoir_nl"]) / 1000 <= truth["reservoir_ul"]
    rig.call("advance", ms=HOUR_MS)
    assert rig.call("truth")["microsteps"] == truth["microsteps"]
    with pytest.raises(PumpError) as refused:
        pump.request("START")
    assert refused.value.code == "E_STATE"
    # the alarm survives a further restart until someone acknowledges it
    rig.call("power_cut")
    assert "MEMORY" in alarms(pump)
