"""Physical plant: true volume per microstep, error factor, plunger travel."""

import math

import pytest

from pumpsim.board import load_mechanics
from pumpsim.plant import Plant, true_ul_per_microstep
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR


@pytest.fixture
def mech():
    return load_mechanics(DEFAULT_FIRMWARE_DIR)


def test_volume_per_microstep_from_first_principles(mech):
    # BD 20 mL bore 19.05 mm, 0.8 mm lead, 200 steps x 16 microsteps.
    expected_ul = math.pi * 9.525**2 * 0.8 / 3200  # mm^3 == uL
    assert true_ul_per_microstep(mech) == pytest.approx(expected_ul, rel=1e-12)
    # The firmware's integer picolitres agree to its rounding (pi as 355/113).
    assert abs(mech["ustep_pl"] / 1e6 - expected_ul) < 1e-6


def test_delivery_and_plunger_follow_microsteps(mech):
    plant = Plant(mech)
    plant.driver_enabled = True
    assert plant.pulse(3200) == 3200  # one revolution
    assert plant.plunger_um == pytest.approx(800.0)
    assert plant.delivered_ul == pytest.approx(3200 * plant.ul_per_microstep)
    assert plant.reservoir_ul == pytest.approx(plant.capacity_ul - plant.delivered_ul)


def test_error_factor_applies_from_when_it_is_set(mech):
    plant = Plant(mech)
    plant.driver_enabled = True
    plant.pulse(1000)
    before = plant.delivered_ul
    plant.error_ppm = 50_000  # +5 %
    plant.pulse(1000)
    assert plant.delivered_ul - before == pytest.approx(1000 * plant.ul_per_microstep * 1.05)
    assert plant.delivered_ul == pytest.approx(2050 * plant.ul_per_microstep)


def test_initial_reservoir_limits_travel(mech):
    plant = Plant(mech, reservoir_ul=1.0)
    plant.driver_enabled = True
    moved = plant.pulse(100)
    assert moved == math.floor(1.0 / plant.ul_per_microstep)
    assert plant.lost_pulses == 100 - moved
    assert plant.stalled


def test_forced_stall_and_occlusion_stop_delivery(mech):
    plant = Plant(mech)
    plant.driver_enabled = True
    plant.occluded = True
    assert plant.pulse(10) == 0 and plant.stalled
    plant.occluded = False
    plant.forced_stall = True
    assert plant.pulse(10) == 0 and plant.stalled
    assert plant.delivered_ul == 0.0
