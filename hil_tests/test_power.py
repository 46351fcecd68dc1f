"""Issue 5: the power-cut campaign of scripts/campaign_powercut.py, short enough
for `make test` (30 cuts over one virtual day); the full run is 500 cuts over 7
days. Every cut is checked: no MEMORY alarm, therapy resumed, the reservoir
account never above the truth and never losing more than the documented bound
per cut, no committed log entry lost, a BOOT entry for every restart."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from campaign_powercut import run_campaign  # noqa: E402  # pyright: ignore[reportMissingImports]

# weeks of fast-forwarded therapy: minutes on the MicroPython VM (see docs/hil.md)
pytestmark = pytest.mark.long


@pytest.mark.rig
def test_thirty_power_cuts_over_a_day_lose_nothing(dut):
    if dut.sim is None:
        pytest.skip("the campaign runs its own simulator")
    summary = run_campaign(seed=5, cuts=30, days=1)
    assert summary["failures"] == [] and summary["ok"]
    assert summary["cuts"] == 30 and summary["torn_writes"] > 0
    assert summary["max_cut_loss_nl"] <= summary["bound_per_cut_nl"]
    assert summary["lost_pulses"] == 0
