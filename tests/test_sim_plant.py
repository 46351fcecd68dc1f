"""Physical plant: true volume per microstep, error factor, plunger travel, and
the refill needle (septum, pocket)."""

import math

import pytest

from pumpsim.board import load_mechanics
from pumpsim.errors import SimError
from pumpsim.plant import POCKET_FLUID_UL, Plant, true_ul_per_microstep
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR


@pytest.fixture
def mech():
    return load_mechanics(DEFAULT_FIRMWARE_DIR)


def full(mech):
    return Plant(mech, reservoir_ul=mech["capacity_nl"] / 1000)


def test_volume_per_microstep_from_first_principles(mech):
    # BD 20 mL bore 19.05 mm, 0.8 mm lead, 200 steps x 16 microsteps.
    expected_ul = math.pi * 9.525**2 * 0.8 / 3200  # mm^3 == uL
    assert true_ul_per_microstep(mech) == pytest.approx(expected_ul, rel=1e-12)
    # The firmware's integer picolitres agree to its rounding (pi as 355/113).
    assert abs(mech["ustep_pl"] / 1e6 - expected_ul) < 1e-6


def test_delivery_and_plunger_follow_microsteps(mech):
    plant = full(mech)
    plant.driver_enabled = True
    assert plant.pulse(3200) == 3200  # one revolution
    assert plant.plunger_um == pytest.approx(800.0)
    assert plant.delivered_ul == pytest.approx(3200 * plant.ul_per_microstep)
    assert plant.reservoir_ul == pytest.approx(plant.capacity_ul - plant.delivered_ul)


def test_error_factor_applies_from_when_it_is_set(mech):
    plant = full(mech)
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
    plant = full(mech)
    plant.driver_enabled = True
    plant.occluded = True
    assert plant.pulse(10) == 0 and plant.stalled
    plant.occluded = False
    plant.forced_stall = True
    assert plant.pulse(10) == 0 and plant.stalled
    assert plant.delivered_ul == 0.0


def test_reservoir_starts_empty_with_the_plunger_at_its_stop(mech):
    plant = Plant(mech)
    plant.driver_enabled = True
    assert plant.reservoir_ul == 0.0 and plant.stalled
    assert plant.pulse(10) == 0 and plant.lost_pulses == 10
    assert plant.plunger_um == pytest.approx(plant.capacity_ul / (math.pi * 9.525**2) * 1000)
    with pytest.raises(ValueError):
        Plant(mech, reservoir_ul=plant.capacity_ul + 1)


def test_septum_fill_moves_the_plunger_back_and_feeds_the_motor(mech):
    plant = Plant(mech)
    plant.needle = "septum"
    plant.inject(18_000.0, 500, now_us=7)
    assert plant.reservoir_ul == pytest.approx(18_000.0) and plant.conc_mcg_ml == 500
    # 2 mL short of full: the plunger sits 2 mL of bore from its full position
    assert plant.plunger_um == pytest.approx(2_000.0 / (math.pi * 9.525**2) * 1000)
    plant.driver_enabled = True
    assert plant.pulse(1000) == 1000
    assert plant.reservoir_ul == pytest.approx(18_000.0 - 1000 * plant.ul_per_microstep)
    assert plant.pocket_fill_ul == 0.0
    assert plant.events == [
        {"event": "inject", "needle": "septum", "ul": 18_000.0, "conc_mcg_ml": 500, "now_us": 7}
    ]


def test_septum_aspiration_empties_at_most_the_contents(mech):
    plant = Plant(mech, reservoir_ul=3_000.0)
    plant.needle = "septum"
    assert plant.aspirate(1_000.0, now_us=0) == 1_000.0
    assert plant.aspirate(5_000.0, now_us=0) == pytest.approx(2_000.0)
    assert plant.reservoir_ul == 0.0
    assert [e["ul"] for e in plant.events] == pytest.approx([1_000.0, 2_000.0])


def test_mixing_concentrations_in_the_reservoir(mech):
    plant = Plant(mech)
    plant.needle = "septum"
    plant.inject(1_000.0, 500, now_us=0)
    plant.inject(3_000.0, 2000, now_us=0)
    assert plant.conc_mcg_ml == pytest.approx((500 + 6000) / 4)


def test_overfill_is_refused_and_changes_nothing(mech):
    plant = Plant(mech, reservoir_ul=5_000.0)
    plant.needle = "septum"
    with pytest.raises(SimError) as err:
        plant.inject(15_001.0, 500, now_us=0)
    assert err.value.code == "E_OVERFILL"
    assert plant.reservoir_ul == 5_000.0 and plant.events == []
    plant.inject(15_000.0, 500, now_us=0)  # exactly to capacity fits
    assert plant.reservoir_ul == pytest.approx(plant.capacity_ul)


def test_pocket_gives_back_tissue_fluid_and_injects_into_the_patient(mech):
    plant = Plant(mech, reservoir_ul=3_000.0)
    plant.needle = "pocket"
    assert plant.aspirate(5_000.0, now_us=1) == POCKET_FLUID_UL
    assert plant.aspirate(1.0, now_us=2) == 1.0
    plant.inject(18_000.0, 500, now_us=3)
    assert plant.reservoir_ul == 3_000.0  # the reservoir never saw any of it
    assert plant.pocket_fill_ul == 18_000.0 and plant.pocket_fill_mcg == pytest.approx(9_000.0)
    assert plant.events[-1] == {
        "event": "pocket_fill",
        "needle": "pocket",
        "ul": 18_000.0,
        "conc_mcg_ml": 500,
        "now_us": 3,
        "mcg": 9_000.0,
    }
    truth = plant.truth()
    assert truth["pocket_fill_mcg"] == pytest.approx(9_000.0) and len(truth["events"]) == 3


def test_needle_out_reaches_nothing(mech):
    plant = Plant(mech, reservoir_ul=3_000.0)
    for act in (lambda: plant.aspirate(1.0, 0), lambda: plant.inject(1.0, 500, 0)):
        with pytest.raises(SimError) as err:
            act()
        assert err.value.code == "E_NEEDLE"
    assert plant.reservoir_ul == 3_000.0 and plant.events == []
