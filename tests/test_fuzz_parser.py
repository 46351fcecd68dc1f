"""Short version of the protocol fuzz campaign (scripts/campaign_fuzz.py runs the
full one): hypothesis-generated hostile lines straight into the firmware's line
assembler, parser and controller, every invariant checked after every input, plus
a short coverage-guided atheris run where atheris is installed."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import fuzzlines
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = 20250101


def test_expected_finals_follows_the_documented_framing():
    assert fuzzlines.expected_finals(b"") == (0, 1)  # the terminator alone: an empty line
    assert fuzzlines.expected_finals(b"STATUS") == (1, 0)
    assert fuzzlines.expected_finals(b"STATUS\r") == (1, 1)  # CR then the LF: one empty
    assert fuzzlines.expected_finals(b"a\x08") == (0, 1)  # erased to nothing
    assert fuzzlines.expected_finals(b"\x01\x08") == (1, 0)  # a bad byte counts even erased
    assert fuzzlines.expected_finals(b"x" * 481 + b"\x08") == (1, 0)  # too long stays so
    assert fuzzlines.expected_finals(b"x" * 480) == (1, 0)


def test_a_real_confirm_is_the_only_input_that_changes_therapy():
    fuzz = fuzzlines.DirectFuzz("filled")
    fuzz.feed(b"START")
    token = fuzz.bench.ctl.pending["token"].encode()
    fuzz.feed(b"CONFIRM token=000000" if token != b"000000" else b"CONFIRM token=000001")
    assert fuzz.bench.ctl.therapy.state == "STOPPED"
    fuzz.feed(b"CONFIRM token=" + token)
    assert fuzz.bench.ctl.therapy.state == "RUNNING" and fuzz.tally.lucky_confirms == 1


def test_direct_fuzz_short_campaign():
    tally = fuzzlines.direct_campaign(SEED, examples=70)
    assert tally.inputs >= 4000 and tally.crashes == 0
    # the generator reaches past the framing into the handlers' arguments...
    for code in ("E_CHARSET", "E_TOO_LONG", "E_CRC", "E_SYNTAX", "E_ARG"):
        assert tally.errors.get(code, 0) > 0, (code, tally.as_dict())
    # ...and into their value parsers. Which of these a short run hits depends on
    # what hypothesis draws, and that depends on the modules already imported (it
    # mines their literals), so only the layer is asserted, not each code.
    values = sum(tally.errors.get(code, 0) for code in ("E_UNITS", "E_VALUE", "E_RANGE"))
    assert values > 0, tally.as_dict()
    assert tally.ok > 0 and tally.discards > 0


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_atheris_short_run(tmp_path):
    out = tmp_path / "atheris.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fuzz_atheris.py"), "--runs", "1500",
         "--seed", "7", "--out", str(out)],
        capture_output=True, text=True, timeout=100, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    tally = json.loads(out.read_text())
    assert tally["inputs"] >= 1500 and tally["crashes"] == 0
