"""Simulator speed benchmark: 24 virtual hours of basal infusion (a microstep
every 30 s) with a 1-minute bolus of 14,000 microsteps, in stepped mode, on the
CPython runtime with a stand-in firmware (pumpsim.fakes.BASAL).

    python -m pumpsim.bench [--delivery-log]

Prints a JSON summary with the wall time and the simulated-to-wall ratio.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from .board import load_mechanics
from .fakes import basal_source, write_firmware
from .runtime import DEFAULT_FIRMWARE_DIR
from .simulator import Simulator

DAY_MS = 86_400_000


def run(delivery_log):
    with tempfile.TemporaryDirectory(prefix="pump-sim-bench-") as tmp:
        fw = write_firmware(Path(tmp) / "fw", basal_source())
        log = str(Path(tmp) / "delivery.csv") if delivery_log else None
        mech = load_mechanics(DEFAULT_FIRMWARE_DIR)
        # The stand-in firmware never refills: start with a full syringe.
        sim = Simulator(
            fw,
            stepped=True,
            mechanics=mech,
            delivery_log=log,
            reservoir_ul=mech["capacity_nl"] / 1000,
        )
        with sim:
            sim.advance(0)
            started = time.perf_counter()
            sim.advance(DAY_MS)
            wall = time.perf_counter() - started
            truth = sim.truth()
            mcu = sim.mcu()
    return {
        "virtual_s": DAY_MS // 1000,
        "wall_s": round(wall, 4),
        "sim_to_wall": round(DAY_MS / 1000 / wall),
        "delivery_log": bool(delivery_log),
        "microsteps": truth["microsteps"],
        "step_count": mcu["step_count"],
        "delivered_ul": round(truth["delivered_ul"], 3),
    }


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m pumpsim.bench", description="Simulator speed benchmark."
    )
    p.add_argument("--delivery-log", action="store_true", help="also write the per-step CSV log")
    args = p.parse_args(argv)
    print(json.dumps(run(args.delivery_log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
