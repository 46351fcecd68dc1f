"""`make bench`: where the pump stands, measured (docs/bench.md).

    .venv/bin/python scripts/bench.py [--out out/bench]

Runs on the real firmware in the simulator and prints one JSON document:
accuracy (issue 3's three scenarios, trumpet figures), simulated-to-wall time of
a therapy day on both runtimes, command round-trip latency on the pty beside
the 115200-baud wire-time floor, the MicroPython VM's resource budget (live
heap peak, .mpy size per board, fuel per control-loop iteration), and the
campaign results other scripts left in out/campaigns/. Also writes
<out>/bench.json and <out>/report.html (self-contained, plots embedded).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import flash  # scripts/flash.py: the .mpy image exactly as `make flash` builds it
from bench_report import write_report

from pumpsim.benchmarks import accuracy, day, latency, vmbudget

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGNS = ROOT / "out" / "campaigns"
RUNTIMES = ("cpython", "micropython")
LATENCY_COUNT = 500
MPY_BOARDS = ("pico_drv8825", "esp32_devkit")
MPY_TARGET_BYTES = 64 * 1024
CPYTHON_DAY_TARGET_S = 1.0


def mpy_sizes():
    """Bytes of each board's flash image (scripts/flash.py build), by package."""
    sizes = {}
    for board in MPY_BOARDS:
        with tempfile.TemporaryDirectory(prefix="pump-bench-flash-") as tmp:
            image = Path(tmp) / board
            flash.build(board, str(image))
            files = {
                p.relative_to(image).as_posix(): p.stat().st_size
                for p in image.rglob("*")
                if p.is_file()
            }
        sizes[board] = {
            "arch": flash.BOARDS[board],
            "mpy_files": sum(1 for name in files if name.endswith(".mpy")),
            "mpy_bytes": sum(n for name, n in files.items() if name.endswith(".mpy")),
            "by_package": {
                pkg: sum(n for name, n in files.items() if name.startswith(pkg + "/"))
                for pkg in flash.PACKAGES
            },
            # copied as source, not counted in mpy_bytes
            "main_py_bytes": files["main.py"],
            "board_select_py_bytes": files["board_select.py"],
        }
    return sizes


def campaigns():
    """The JSON results in out/campaigns/, by file name; "not run" when there are none."""
    found = {path.stem: json.loads(path.read_text()) for path in sorted(CAMPAIGNS.glob("*.json"))}
    return found or {"status": "not run", "looked_in": "out/campaigns/*.json"}


def targets(doc):
    acc = doc["accuracy"]["scenarios"]
    budget = doc["vm_budget"]
    peak = budget["peak_live_heap_bytes"]
    return {
        "total_24h_within_1_ustep": all(s["within_one_ustep"]["total"] for s in acc),
        "every_window_within_1_ustep": all(s["within_one_ustep"]["windows"] for s in acc),
        "cpython_day_under_1s_wall": doc["speed"]["cpython"]["wall_s"] < CPYTHON_DAY_TARGET_S,
        "peak_heap_under_32KB": peak is not None and peak < vmbudget.TARGET_HEAP,
        "day_completes_in_32KB_heap": budget["runs_in_target_heap"]["completed"],
        "mpy_under_64KB": {
            board: s["mpy_bytes"] < MPY_TARGET_BYTES for board, s in doc["mpy_size"].items()
        },
    }


def run(out):
    started = time.perf_counter()
    doc: dict = {"accuracy": accuracy.run_all(out / "accuracy")}
    speed: dict = {rt: day.therapy_day(rt) for rt in RUNTIMES}
    doc["speed"] = dict(speed, workload=day.DESCRIPTION)
    doc["latency"] = {rt: latency.round_trips(rt, LATENCY_COUNT) for rt in RUNTIMES}
    doc["vm_budget"] = vmbudget.budget()
    doc["vm_budget"]["fuel_per_loop"] = {
        key: speed["micropython"]["vm"][key]
        for key in ("fuel_per_loop_mean", "fuel_per_loop_max", "loop_iterations")
    }
    doc["mpy_size"] = mpy_sizes()
    doc["campaigns"] = campaigns()
    doc["targets"] = targets(doc)
    doc["bench_wall_s"] = round(time.perf_counter() - started, 1)
    return doc


def main(argv=None):
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "out" / "bench"), metavar="DIR")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc = run(out)
    text = json.dumps(doc, indent=2)
    (out / "bench.json").write_text(text + "\n")
    write_report(doc, out / "report.html", out / "accuracy")
    print(text)
    print(f"report: {out / 'report.html'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
