"""Rig fault injection and the simulated watchdog (docs/rig.md, "Faults"), with
small stand-in firmware so each fault is seen at the HAL, not through the pump."""

import pytest

from pumpsim import Simulator
from pumpsim.board import load_mechanics
from pumpsim.fakes import write_firmware
from pumpsim.rigclient import RigClient, RigCommandError
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR

MECH = load_mechanics(DEFAULT_FIRMWARE_DIR)

# A healthy loop: energises the driver, appends its loop count to a file, feeds
# the watchdog and sleeps a second (or a minute: a healthy loop may sleep long).
FEEDER = """
SLEEP_MS = %d


def run(hal):
    hal.driver_enable(True)
    n = 0
    while True:
        hal.fs_append("log", b"%%d\\n" %% n)
        n += 1
        hal.wdt_feed()
        hal.idle(SLEEP_MS)
"""

# Arms the watchdog once, then loops without feeding it.
STOPS_FEEDING = """
def run(hal):
    hal.wdt_feed()
    while True:
        hal.idle(1000)
"""

# Feeds the watchdog, then crashes: the halted MCU no longer feeds it.
CRASHES = """
def run(hal):
    hal.wdt_feed()
    hal.idle(1000)
    raise RuntimeError("firmware bug")
"""


def start(tmp_path, source, name="fw", **kw):
    fw = write_firmware(tmp_path / name, source)
    kw.setdefault("reservoir_ul", MECH["capacity_nl"] / 1000)
    return Simulator(fw, mechanics=MECH, stepped=True, flash_dir=tmp_path / (name + "-flash"), **kw)


@pytest.fixture
def feeder(tmp_path):
    with start(tmp_path, FEEDER % 1000) as sim, RigClient(sim.rig_address, timeout=30) as rig:
        yield sim, rig


def test_a_healthy_loop_sleeping_a_minute_is_never_bitten(tmp_path):
    with start(tmp_path, FEEDER % 60_000) as sim:
        sim.advance(3_600_000)
        mcu = sim.mcu()
    assert (mcu["boots"], mcu["reset_cause"], mcu["watchdog_ms"]) == (1, "power_on", 5000)


def test_a_loop_that_stops_feeding_is_bitten_after_the_timeout(tmp_path):
    with start(tmp_path, STOPS_FEEDING) as sim:
        # fed at 0; the first idle was healthy and kept it fed up to 1 s; from
        # then on nobody feeds it: it bites at 1 s + 5 s.
        sim.advance(5_999)
        assert sim.mcu()["boots"] == 1
        sim.advance(1)
        mcu = sim.mcu()
    assert (mcu["boots"], mcu["reset_cause"], mcu["now_us"]) == (2, "watchdog", 6_000_000)


def test_a_crashed_firmware_is_reset_by_the_watchdog(tmp_path):
    with start(tmp_path, CRASHES) as sim:
        sim.advance(1_000)
        assert sim.mcu()["state"] == "halted"
        sim.advance(5_000)
        mcu = sim.mcu()
    assert (mcu["boots"], mcu["reset_cause"], mcu["state"]) == (2, "watchdog", "running")


def test_the_watchdog_can_be_switched_off(tmp_path):
    with start(tmp_path, STOPS_FEEDING, watchdog_ms=0) as sim:
        sim.advance(600_000)
        assert sim.mcu()["boots"] == 1


def test_a_hang_blocks_the_next_hal_call_until_the_watchdog_bites(feeder):
    sim, rig = feeder
    rig.call("advance", ms=10_000)
    assert rig.call("hang") == {"id": 2, "ok": True, "armed": True}
    # the idle the MCU sleeps in ends at 11 s, healthy; its next HAL call hangs
    mcu = rig.call("advance", ms=5_999) and rig.call("mcu")
    assert (mcu["hung"], mcu["boots"], mcu["wdt_fed_us"]) == (True, 1, 10_000_000)
    assert sim.flash.read("log").endswith(b"\n10\n")  # the loop stopped at 11 s
    rig.call("advance", ms=1)
    mcu = rig.call("mcu")
    assert (mcu["boots"], mcu["reset_cause"], mcu["hung"]) == (2, "watchdog", False)
    rig.call("advance", ms=3_000)
    assert sim.flash.read("log").endswith(b"\n10\n0\n1\n2\n3\n")  # the new boot loops


def test_without_a_watchdog_a_hang_lasts_until_power_is_cut(tmp_path):
    with start(tmp_path, FEEDER % 1000, watchdog_ms=0) as sim, RigClient(sim.rig_address) as rig:
        rig.call("hang")
        rig.call("advance", ms=600_000)
        assert rig.call("mcu")["hung"] is True
        mcu = rig.call("power_cut")
    assert (mcu["boots"], mcu["reset_cause"], mcu["hung"]) == (2, "power_on", False)


def test_runaway_pulses_are_counted_and_move_the_plant_only_while_enabled(feeder):
    sim, rig = feeder
    assert rig.call("runaway", steps_per_s=250)["steps_per_s"] == 250
    for _ in range(4):
        rig.call("advance", ms=250)
    truth, mcu = rig.call("truth"), rig.call("mcu")
    assert mcu["step_count"] == truth["microsteps"] == truth["pulses"] == 250
    rig.call("runaway", steps_per_s=0)
    rig.call("advance", ms=1_000)
    assert rig.call("truth")["microsteps"] == 250
    # after a power cut the driver is disabled until the firmware enables it
    rig.call("runaway", steps_per_s=1_000)
    sim.hal.driver_enable(False)  # as the firmware would, from its own thread
    rig.call("advance", ms=1_000)
    assert rig.call("truth")["pulses"] == 250


def test_runaway_pulses_do_not_depend_on_how_time_is_cut(tmp_path):
    def run(name, plan):
        with start(tmp_path, FEEDER % 1000, name=name) as sim:
            with RigClient(sim.rig_address) as rig:
                rig.call("runaway", steps_per_s=333)
                for ms in plan:
                    rig.call("advance", ms=ms)
                return rig.call("truth")["microsteps"], rig.call("mcu")["step_count"]

    assert run("a", [3_000]) == run("b", [1, 999, 7, 1_993]) == (999, 999)


@pytest.mark.parametrize("fault", ["stall", "occlude"])
def test_stall_and_occlusion_lose_pulses_and_read_stalled(feeder, fault):
    sim, rig = feeder
    assert rig.call(fault, on=True)["stalled"] is True
    assert sim.hal.stalled() is True
    rig.call("runaway", steps_per_s=100)
    rig.call("advance", ms=1_000)
    truth = rig.call("truth")
    assert (truth["microsteps"], truth["lost_pulses"], truth["stalled"]) == (0, 100, True)
    assert rig.call(fault, on=False)["stalled"] is False
    rig.call("advance", ms=1_000)
    assert rig.call("truth")["microsteps"] == 100


def test_a_torn_write_keeps_a_prefix_and_cuts_power(feeder):
    sim, rig = feeder
    rig.call("advance", ms=12_000)
    assert rig.call("tear", bytes=1)["bytes"] == 1
    assert sim.flash.read("log").endswith(b"\n12\n")  # armed: nothing written yet
    rig.call("advance", ms=1)  # the MCU wakes and appends "13\n": torn after "1"
    mcu = rig.call("mcu")
    assert (mcu["boots"], mcu["reset_cause"], mcu["now_us"]) == (2, "power_on", 12_001_000)
    # the new boot appended its own first count after the torn prefix
    assert sim.flash.read("log").endswith(b"\n12\n" + b"1" + b"0\n")


def test_corrupt_flips_one_byte(feeder):
    sim, rig = feeder
    sim.flash.write("rec", b"abcdef")
    assert rig.call("corrupt", file="rec") == {"id": 1, "ok": True, "file": "rec", "offset": 3}
    assert sim.flash.read("rec") == b"abc" + bytes([ord("d") ^ 0xFF]) + b"ef"
    rig.call("corrupt", file="rec", offset=0)
    assert sim.flash.read("rec")[0] == ord("a") ^ 0xFF
    assert (sim.flash.directory / "rec").read_bytes() == sim.flash.read("rec")


@pytest.mark.parametrize(
    "cmd,args",
    [
        ("stall", {"on": 1}),
        ("occlude", {}),
        ("runaway", {"steps_per_s": -1}),
        ("runaway", {"steps_per_s": 1.5}),
        ("tear", {"bytes": -1}),
        ("corrupt", {"file": "missing"}),
        ("corrupt", {"file": "../x"}),
        ("corrupt", {"file": "log", "offset": 99}),
    ],
)
def test_bad_fault_arguments_are_refused_and_change_nothing(feeder, cmd, args):
    sim, rig = feeder
    rig.call("advance", ms=1_000)
    before = (sim.truth(), sim.flash.read("log"))
    with pytest.raises(RigCommandError) as err:
        rig.call(cmd, **args)
    assert err.value.code == "E_ARG"
    assert (sim.truth(), sim.flash.read("log")) == before
