"""One day of therapy on the real firmware, the workload of the speed and
resource benchmarks: fill, the flex schedule of the accuracy benchmark started
at 00:00, its 50 mcg bolus at 11:00, a routine refill at 16:00, until 24:00.
Everything goes through the pty and the rig, as a technician would do it."""

import time

from ..accuracy.scenarios import FLEX_WITH_BOLUS
from .accuracy import _program
from .bench_pump import HOUR_MS, BenchPump

PROGRAMME = FLEX_WITH_BOLUS.programme
DESCRIPTION = "flex 100/150/120/200 mcg/day at 500 mcg/mL, 50 mcg bolus at 11:00, refill at 16:00"


def therapy_day(runtime, **options):
    """Run the day; returns wall time, delivery and the runtime's statistics.
    `options`: BenchPump's (MicroPython heap options, firmware directory or
    ROMFS image)."""
    with BenchPump(runtime, **options) as bp:
        bp.first_fill(PROGRAMME.conc_mcg_ml)
        _program(bp, PROGRAMME)
        bp.confirm("START", reason="bench day")
        s0 = bp.sim.truth()["microsteps"]
        started = time.perf_counter()
        bp.advance(11 * HOUR_MS)
        bp.confirm("BOLUS", dose="50mcg", over="60s")
        bp.advance(5 * HOUR_MS)
        bp.refill(PROGRAMME.conc_mcg_ml)
        bp.advance(8 * HOUR_MS)
        wall = time.perf_counter() - started
        status = bp.pump.request("STATUS").fields
        mcu = bp.sim.mcu()
        microsteps = bp.sim.truth()["microsteps"] - s0
    return {
        "runtime": runtime,
        "virtual_s": 24 * HOUR_MS // 1000,
        "wall_s": round(wall, 3),
        "sim_to_wall": round(24 * HOUR_MS / 1000 / wall),
        "microsteps": microsteps,
        "device_state": status.get("state"),
        "mcu_state": mcu["state"],
        "boots": mcu["boots"],
        "vm": mcu["runtime"],
    }
