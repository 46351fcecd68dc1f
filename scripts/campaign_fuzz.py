"""Protocol fuzz campaign (issue 8): >= 100,000 seeded inputs, every invariant
checked after every input (tests/fuzzlines.py, hil_tests/ptyfuzz.py):

1. hypothesis-generated lines (each with seeded byte-level variants) straight into
   the firmware's line assembler, parser and controller, sharded over processes;
2. coverage-guided atheris on the instrumented firmware (scripts/fuzz_atheris.py),
   where atheris is installed;
3. pipelined through the pty of a running simulator with a running therapy.

    python scripts/campaign_fuzz.py            # full: 90k + 30k + 10k inputs
    python scripts/campaign_fuzz.py --direct 5000 --atheris 2000 --pty 1000

Writes the counts to out/campaigns/fuzz.json; exits 1 on a broken invariant.
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "hil_tests"), str(ROOT / "tests")]

from ptyfuzz import PtyFuzz, fuzzlines  # noqa: E402  # pyright: ignore[reportMissingImports]

INPUTS_PER_EXAMPLE = 75  # about 7.5 generated lines x (1 + 9 variants)
EXAMPLES_PER_SHARD = 40


def direct_shard(seed):
    try:
        return fuzzlines.direct_campaign(seed, EXAMPLES_PER_SHARD).as_dict(), None
    except Exception:  # a broken invariant, shrunk by hypothesis: report it
        return None, traceback.format_exc(limit=3)


def run_direct(target, seed, jobs):
    total, failures = fuzzlines.Tally(), []
    shards = max(1, -(-target // (INPUTS_PER_EXAMPLE * EXAMPLES_PER_SHARD)))
    with ProcessPoolExecutor(jobs) as pool:
        for counts, failure in pool.map(direct_shard, [seed * 1000 + i for i in range(shards)]):
            if failure or counts is None:
                failures.append(failure)
            else:
                part = fuzzlines.Tally()
                part.__dict__.update({k: v for k, v in counts.items() if k in part.__dict__})
                part.lines, part.errors = counts["final_replies"], counts["errors_by_code"]
                part.discards = counts["discarded_empty_lines"]
                total.merge(part)
    return total.as_dict(), failures


def run_atheris(runs, seed):
    if importlib.util.find_spec("atheris") is None:
        return {"skipped": "atheris not installed"}, []
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "atheris.json"
        proc = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "fuzz_atheris.py"), "--runs", str(runs),
             "--seed", str(seed), "--out", str(out)],
            cwd=work, capture_output=True, text=True,
        )  # fmt: skip
        counts = json.loads(out.read_text()) if out.exists() else {}
        stats = [ln for ln in proc.stderr.splitlines() if ln.startswith(("stat::", "#"))]
        counts["libfuzzer"] = stats[-6:]
        if proc.returncode == 0:
            return counts, []
        # the input that broke an invariant, as libFuzzer printed it
        counts["crashes"] = counts.get("crashes", 0) + 1
        lines = proc.stderr.splitlines()
        cause = [ln for ln in lines if "InvariantBroken" in ln or ln.startswith("Base64:")]
        counts["crash"] = cause[-2:]
        return counts, [proc.stderr[-4000:]]


def run_pty(target, seed, runtime):
    from therapy import first_fill, start_continuous  # pyright: ignore[reportMissingImports]

    from pumpsim.commissioned import Commissioned
    from pumpsim.simulator import Simulator

    with Simulator(stepped=True, runtime=runtime, provision_gate=True) as sim:
        with Commissioned(sim) as bench:
            first_fill(bench.pump, bench.rig, vol="18mL", conc="500mcg/mL")
            start_continuous(bench.pump, dose="150mcg/day", conc="500mcg/mL")
        fuzz = PtyFuzz(sim.pty_path, bench.key)
        failures = []
        round_ = 0
        while fuzz.tally.inputs < target and not failures:
            try:
                fuzzlines.run_given(lambda inputs, _: fuzz.batch(inputs), seed * 1000 + round_,
                                    examples=25, batch_max=50)  # fmt: skip
            except Exception:
                failures.append(traceback.format_exc(limit=3))
            round_ += 1
        counts = fuzz.tally.as_dict()
        counts.update(runtime=runtime, batches=fuzz.batches, mcu=sim.mcu()["state"])
        return counts, failures


def main():
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--direct", type=int, default=90000, help="hypothesis inputs, in-process")
    p.add_argument("--atheris", type=int, default=30000, help="atheris executions")
    p.add_argument("--pty", type=int, default=10000, help="inputs through the simulator's pty")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--runtime", default="cpython", choices=("cpython", "micropython"))
    p.add_argument("--out", type=Path, default=ROOT / "out" / "campaigns" / "fuzz.json")
    args = p.parse_args()
    report: dict = {"seed": args.seed}
    failures = []
    for name, run in (
        ("direct_hypothesis", lambda: run_direct(args.direct, args.seed, args.jobs)),
        ("direct_atheris", lambda: run_atheris(args.atheris, args.seed)),
        ("pty", lambda: run_pty(args.pty, args.seed, args.runtime)),
    ):
        t0 = time.monotonic()
        counts: dict
        counts, failed = run()
        counts["wall_s"] = round(time.monotonic() - t0, 1)
        report[name] = counts
        failures += [f"{name}: {f}" for f in failed]
        print(f"{name}: {counts.get('inputs', 0)} inputs, {counts['wall_s']} s", flush=True)
    report["total_inputs"] = sum(report[k].get("inputs", 0) for k in
                                 ("direct_hypothesis", "direct_atheris", "pty"))  # fmt: skip
    report["crashes"] = sum(report[k].get("crashes", 0) for k in
                            ("direct_hypothesis", "direct_atheris", "pty"))  # fmt: skip
    report["failures"] = failures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("total_inputs", "crashes")}), "->", args.out)
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
