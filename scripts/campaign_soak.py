"""Soak campaign (issue 8): 90 simulated days of a realistic therapy
(hil_tests/soak.py) on a stepped simulator, per runtime, with the firmware's
account checked against the plant daily and the event log read back at the end.

    python scripts/campaign_soak.py                       # 90 days, both runtimes
    python scripts/campaign_soak.py --days 30 --runtime cpython

Writes out/campaigns/soak-<runtime>.json; exits 1 if a check failed.
"""

import argparse
import json
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hil_tests"))

from soak import RESERVE_NL, Soak  # noqa: E402  # pyright: ignore[reportMissingImports]


def soak(runtime, days, seed):
    from pumpsim.commissioned import Commissioned
    from pumpsim.simulator import Simulator

    t0 = time.monotonic()
    with (
        Simulator(stepped=True, runtime=runtime, provision_gate=True) as sim,
        Commissioned(sim, timeout=30.0, rig_timeout=900) as bench,  # 5-day advances on the VM
    ):
        try:
            result = Soak(bench.pump, bench.rig, days, seed).run()
            result["failure"] = None
        except Exception:
            result = {"days": days, "failure": traceback.format_exc(limit=4)}
    result["runtime"] = runtime
    result["wall_s"] = round(time.monotonic() - t0, 1)
    result["virtual_to_wall"] = round(days * 86400 / result["wall_s"])
    if not result["failure"]:
        result["failure"] = judge(result)
    return result


def judge(r):
    """The campaign's pass criteria; None when they all hold."""
    ustep = 71.26
    bound = (r["power_cuts"] + r["unplanned_restarts"]) * (RESERVE_NL + ustep) + ustep
    gap = r["reservoir_truth_nl"] - r["reservoir_fw_nl"]
    r["reservoir_bound_nl"] = round(bound)
    problems = []
    if not 0 <= gap <= bound:
        problems.append(f"reservoir account off the truth by {gap} nL (bound {bound:.0f})")
    if "RES_EMPTY" in r["alarms_at_end"] or r["state"] != "RUNNING":
        problems.append(f"ended {r['state']} with {r['alarms_at_end']}")
    if r["missing_events"] or not r["log_complete"] or not r["boot_events_match"]:
        problems.append("event log incomplete")
    if r["unplanned_restarts"]:
        problems.append(f"{r['unplanned_restarts']} unplanned restart(s) (firmware crash?)")
    if r["pocket_fill_ul"]:
        problems.append("a pocket fill happened")
    return "; ".join(problems) or None


def main():
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--runtime", choices=("cpython", "micropython", "both"), default="both")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out-dir", type=Path, default=ROOT / "out" / "campaigns")
    args = p.parse_args()
    runtimes = ["cpython", "micropython"] if args.runtime == "both" else [args.runtime]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    with ProcessPoolExecutor(len(runtimes)) as pool:
        jobs = [pool.submit(soak, rt, args.days, args.seed) for rt in runtimes]
        for rt, job in zip(runtimes, jobs, strict=True):
            result = job.result()
            out = args.out_dir / f"soak-{rt}.json"
            out.write_text(json.dumps(result, indent=2) + "\n")
            keys = ("days", "wall_s", "virtual_to_wall", "power_cuts", "failure")
            print(rt, json.dumps({k: result.get(k) for k in keys}), "->", out, flush=True)
            failed = failed or bool(result["failure"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
