"""Step generator through the SimHAL: emitted counts, queue rules and plant truth.

Virtual time is moved directly with Machine.advance_to (what idle does), so
these tests need no firmware thread.
"""

import pytest

from pumpsim.board import load_mechanics
from pumpsim.clock import VirtualClock, ticks_add
from pumpsim.flash import Flash
from pumpsim.hal import SimHAL
from pumpsim.machine import Machine
from pumpsim.plant import Plant
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR
from pumpsim.stepgen import QUEUE_DEPTH


@pytest.fixture
def rig(tmp_path):
    clock = VirtualClock()
    mech = load_mechanics(DEFAULT_FIRMWARE_DIR)
    plant = Plant(mech, reservoir_ul=mech["capacity_nl"] / 1000)  # a full syringe
    machine = Machine(clock, plant, Flash(tmp_path / "flash"), stepped=True)
    hal = SimHAL(machine, serial=None, mechanics=plant.mech)
    hal.driver_enable(True)
    return machine, hal, plant


def at(hal, delta_us):
    return ticks_add(hal.ticks_us(), delta_us)


def test_segment_emits_on_schedule_and_plant_follows(rig):
    machine, hal, plant = rig
    assert hal.step_queue(at(hal, 1000), 10, 500)
    assert hal.step_count() == 0 and hal.step_pending() == 1
    machine.advance_to(1000)
    assert hal.step_count() == 1
    machine.advance_to(1000 + 4 * 500 + 499)
    assert hal.step_count() == 5
    machine.advance_to(1000 + 9 * 500)
    assert hal.step_count() == 10 and hal.step_pending() == 0
    assert plant.microsteps == 10 == plant.pulses


def test_start_in_the_past_starts_now(rig):
    machine, hal, plant = rig
    machine.advance_to(2_000_000)
    assert hal.step_queue(at(hal, -1_000_000), 3, 100)
    assert hal.step_count() == 1  # the first pulse is emitted at once
    machine.advance_to(2_000_200)
    assert hal.step_count() == 3 == plant.microsteps


def test_queue_depth_and_sequential_segments(rig):
    machine, hal, _ = rig
    assert hal.step_queue(at(hal, 0), 5, 100)
    assert hal.step_queue(at(hal, 0), 5, 100)  # waits for the first to finish
    assert not hal.step_queue(at(hal, 0), 1, 0)
    assert hal.step_pending() == QUEUE_DEPTH
    machine.advance_to(400)
    assert hal.step_count() == 5 and hal.step_pending() == 1
    machine.advance_to(401)
    assert hal.step_count() == 6
    machine.advance_to(801)
    assert hal.step_count() == 10 and hal.step_pending() == 0


def test_step_stop_keeps_exactly_what_was_emitted(rig):
    machine, hal, plant = rig
    hal.step_queue(at(hal, 0), 100, 1000)
    hal.step_queue(at(hal, 200_000), 100, 1000)
    machine.advance_to(41_500)
    hal.step_stop()
    assert hal.step_pending() == 0
    machine.advance_to(1_000_000)
    assert hal.step_count() == 42 == plant.microsteps


def test_segments_across_the_tick_wrap(rig):
    machine, hal, _ = rig
    machine.advance_to(4_990_000)  # ticks_us wraps at 5 s
    hal.step_queue(at(hal, 0), 1000, 20)
    machine.advance_to(5_010_000)
    assert hal.step_count() == 1000


def test_pulses_with_driver_disabled_do_not_move_the_plant(rig):
    machine, hal, plant = rig
    hal.driver_enable(False)
    hal.step_queue(at(hal, 0), 10, 10)
    machine.advance_to(1000)
    assert hal.step_count() == 10
    assert plant.pulses == 10 and plant.microsteps == 0


@pytest.mark.parametrize("args", [(0, -1, 10), (0, 5, 0), (0, 2, -1), (0.5, 1, 0), (0, True, 0)])
def test_bad_segments_are_refused_and_change_nothing(rig, args):
    _, hal, _ = rig
    with pytest.raises((ValueError, TypeError)):
        hal.step_queue(*args)
    assert hal.step_pending() == 0 and hal.step_count() == 0


def test_long_run_counts_without_per_step_work(rig):
    machine, hal, plant = rig
    # 200,000 pulses over 200 virtual seconds, in two big jumps of time.
    hal.step_queue(at(hal, 0), 200_000, 1000)
    machine.advance_to(100_000_000)
    machine.advance_to(200_000_000)
    assert hal.step_count() == 200_000
    assert plant.microsteps == 200_000


def test_empty_reservoir_stops_the_plunger_and_reports_stall(rig):
    machine, hal, plant = rig
    capacity_steps = int(plant.capacity_ul / plant.ul_per_microstep)  # 280,679 for the sim board
    assert not hal.stalled()
    hal.step_queue(at(hal, 0), capacity_steps + 50, 100)
    machine.advance_to(100 * (capacity_steps + 50))
    assert hal.step_count() == capacity_steps + 50
    assert plant.microsteps == capacity_steps
    assert plant.lost_pulses == 50
    assert plant.reservoir_ul < plant.ul_per_microstep
    assert hal.stalled()
