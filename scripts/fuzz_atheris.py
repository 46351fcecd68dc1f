"""Coverage-guided fuzzing of the firmware's line handling with atheris (libFuzzer).

Runs in its own process (libFuzzer owns it and exits it): the firmware's `pump`
modules are instrumented as they are imported, then every input goes through
fuzzlines.DirectFuzz, the same invariant checks as the hypothesis campaign. A
broken invariant is an uncaught exception: libFuzzer reports it, saves the input
as crash-* in the working directory and exits non-zero.

    python scripts/fuzz_atheris.py --runs 30000 --seed 1 --out atheris.json
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "firmware")]

with atheris.instrument_imports(include=["pump"]):  # pyright: ignore[reportAttributeAccessIssue]
    import pump.app  # noqa: F401  (the import instruments every firmware module)

import fuzzlines  # noqa: E402  # pyright: ignore[reportMissingImports]

# Seeds that reach deep: libFuzzer mutates from here.
CORPUS = [
    b"STATUS", b"@r1 VERSION *1234", b"PROGRAM CONT dose=150mcg/day conc=500mcg/mL",
    b"PROGRAM FLEX conc=500mcg/mL steps=00:00@100mcg/day,07:30@150mcg/day",
    b"BOLUS dose=50mcg over=10min", b"PRIME vol=0.5mL", b'STOP reason="patient request"',
    b"CONFIRM token=A1B2C3", b"ACK id=1", b"REFILL BEGIN window=20min",
    b"REFILL ASPIRATED vol=3.1mL probe=2mL back=1.9mL",
    b"REFILL FILL vol=18mL conc=500mcg/mL conc2=500mcg/mL", b"CLOCK SET rtc_s=1800000000",
    b"LOG since=1 limit=5", b"AUTH RESPONSE role=tech user=a mac=" + b"0" * 64,
]  # fmt: skip
RESET_EVERY = 500  # a fresh pump now and then, so state drifts no further


def main():
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--runs", type=int, default=30000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, required=True, help="JSON tally written as it goes")
    args = p.parse_args()
    pumps = {}
    tally = fuzzlines.Tally()

    def one_input(data):
        scenario = fuzzlines.SCENARIOS[data[0] % 4 if data else 0]
        fuzz = pumps.get(scenario)
        if fuzz is None or fuzz.tally.inputs >= RESET_EVERY:
            if fuzz is not None:
                tally.merge(fuzz.tally)
            fuzz = pumps[scenario] = fuzzlines.DirectFuzz(scenario)
        fuzz.feed(data[1:])
        seen = tally.inputs + sum(f.tally.inputs for f in pumps.values())
        if seen % 500 == 0 or seen >= args.runs:
            total = fuzzlines.Tally()
            total.merge(tally)
            for f in pumps.values():
                total.merge(f.tally)
            args.out.write_text(json.dumps(total.as_dict()) + "\n")

    corpus = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
    for i, line in enumerate(CORPUS):
        (corpus / f"seed{i}").write_bytes(bytes([i % 4]) + line)
    atheris.Setup(
        [sys.argv[0], f"-runs={args.runs}", f"-seed={args.seed}", "-max_len=600",
         "-print_final_stats=1", str(corpus)],
        one_input,
    )  # fmt: skip
    atheris.Fuzz()


if __name__ == "__main__":
    main()
