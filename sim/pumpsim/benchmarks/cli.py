"""`pump-sim bench accuracy [--out DIR]`: issue 3's accuracy benchmark on the
real firmware; prints the JSON summaries and writes the PNGs (docs/accuracy.md).
The whole bench (speed, latency, VM budget, report) is `make bench`."""

import argparse
import json
from pathlib import Path

from .accuracy import run_all


def main(argv=None):
    p = argparse.ArgumentParser(prog="pump-sim bench", description=__doc__)
    p.add_argument("what", choices=["accuracy"])
    p.add_argument(
        "--out",
        default="out/bench/accuracy",
        metavar="DIR",
        help="where the PNGs, JSON and delivery logs go (default: %(default)s)",
    )
    args = p.parse_args(argv)
    result = run_all(Path(args.out))
    print(json.dumps(result, indent=2))
    return 0 if result["all_within_one_ustep"] else 1
