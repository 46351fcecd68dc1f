"""Fleet capacity (issue 8): how many simulated pumps, each running a basal therapy,
one machine keeps up with in accelerated time. For each fleet size N the pumps are
set up in stepped mode (provisioned, filled, running 150 mcg/day), switched to
--speed together, and after WINDOW_S of wall time each pump's virtual clock is
compared with wall x speed. A fleet "keeps up" when its slowest pump reached
at least 95 % of that.

    python scripts/campaign_fleet.py --speed 3600 --sizes 1,4,8,16,32
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hil_tests"))

from therapy import first_fill, start_continuous  # noqa: E402  # pyright: ignore[reportMissingImports]

from pumpsim.commissioned import Commissioned  # noqa: E402
from pumpsim.fleet import Fleet  # noqa: E402

WINDOW_S = 10.0
KEEPS_UP = 0.95


def setup(sim):
    with Commissioned(sim) as bench:
        first_fill(bench.pump, bench.rig, vol="18mL", conc="500mcg/mL")
        start_continuous(bench.pump, dose="150mcg/day", conc="500mcg/mL")


def measure(n, speed, runtime):
    fleet = Fleet(n, stepped=True, runtime=runtime, provision_gate=True).start()
    try:
        for sim in fleet.sims:
            setup(sim)
        start = []
        for sim in fleet.sims:
            sim.set_speed(speed)
            start.append((sim.now()["now_us"], time.monotonic()))
        time.sleep(WINDOW_S)
        # each pump against its own wall window: switching them one by one takes time
        ratios = [
            (sim.now()["now_us"] - v0) / 1e6 / ((time.monotonic() - w0) * speed)
            for sim, (v0, w0) in zip(fleet.sims, start, strict=True)
        ]
        wall = time.monotonic() - start[0][1]
        steps = [sim.truth()["microsteps"] for sim in fleet.sims]
    finally:
        fleet.stop()
    return {"pumps": n, "speed": speed, "runtime": runtime, "wall_s": round(wall, 2),
            "slowest_ratio": round(min(ratios), 3), "mean_ratio": round(sum(ratios) / n, 3),
            "keeps_up": min(ratios) >= KEEPS_UP, "min_microsteps": min(steps)}  # fmt: skip


def main():
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--speed", type=float, default=3600)
    p.add_argument("--sizes", default="1,4,8,16,32")
    p.add_argument("--runtime", default="cpython", choices=("cpython", "micropython"))
    p.add_argument("--out", type=Path, default=ROOT / "out" / "campaigns" / "fleet.json")
    args = p.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        rows.append(measure(n, args.speed, args.runtime))
        print(json.dumps(rows[-1]), flush=True)
    sustained = max((r["pumps"] for r in rows if r["keeps_up"]), default=0)
    report = {"sustained_pumps": sustained, "cores": len(__import__("os").sched_getaffinity(0)),
              "runs": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"sustained: {sustained} pumps at x{args.speed:g} ->", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
