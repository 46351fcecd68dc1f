"""Ground-truth delivery log: header, one row per microstep, exact timestamps."""

import csv

from pumpsim.board import load_mechanics
from pumpsim.clock import VirtualClock, ticks_add
from pumpsim.deliverylog import DeliveryLog
from pumpsim.flash import Flash
from pumpsim.hal import SimHAL
from pumpsim.machine import Machine
from pumpsim.plant import Plant
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR


def test_rows_match_step_times_and_plant_truth(tmp_path):
    path = tmp_path / "delivery.csv"
    log = DeliveryLog(path)
    clock = VirtualClock()
    mech = load_mechanics(DEFAULT_FIRMWARE_DIR)
    plant = Plant(mech, reservoir_ul=mech["capacity_nl"] / 1000)  # a full syringe
    machine = Machine(clock, plant, Flash(tmp_path / "flash"), stepped=True, delivery_log=log)
    hal = SimHAL(machine, serial=None, mechanics=plant.mech)
    hal.driver_enable(True)
    machine.advance_to(1_500_000)
    hal.step_queue(ticks_add(hal.ticks_us(), 250), 4, 333_333)
    machine.advance_to(3_000_000)
    hal.driver_enable(False)  # pulses without the driver move nothing: no rows
    hal.step_queue(hal.ticks_us(), 2, 10)
    machine.advance_to(4_000_000)
    log.close()

    text = path.read_text()
    assert text.startswith("t_s,microsteps,delivered_ul\n")
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["t_s"] for r in rows] == ["1.500250", "1.833583", "2.166916", "2.500249"]
    assert [int(r["microsteps"]) for r in rows] == [1, 2, 3, 4]
    for r in rows:
        expected = int(r["microsteps"]) * plant.ul_per_microstep
        assert abs(float(r["delivered_ul"]) - expected) <= 5e-7
    assert float(rows[-1]["delivered_ul"]) == round(plant.delivered_ul, 6)
