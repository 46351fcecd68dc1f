"""Short soak (scripts/campaign_soak.py runs the full 90 days on both runtimes):
the first 10 days of the soak therapy (hil_tests/soak.py) with its daily checks,
then the account, depletion and event-log checks of the full campaign."""

import pytest
from soak import RESERVE_NL, Soak

# weeks of fast-forwarded therapy: minutes on the MicroPython VM (see docs/hil.md)
pytestmark = pytest.mark.long


@pytest.mark.rig
def test_ten_day_soak(pump, rig):
    result = Soak(pump, rig, days=10, seed=3).run()
    assert result["state"] == "RUNNING" and "RES_EMPTY" not in result["alarms_at_end"]
    assert 0 <= result["reservoir_truth_nl"] - result["reservoir_fw_nl"] <= 72
    # lifetime delivery: the firmware's whole-picolitre microstep (rounded up, so
    # the reservoir errs low) may count up to 1 pL per microstep above the truth
    gap = result["delivered_truth_nl"] - result["delivered_fw_nl"]
    assert -result["microsteps"] / 1000 - 1 <= gap <= RESERVE_NL
    assert result["log_complete"] and not result["missing_events"], result
    assert result["boot_events_match"] and result["pocket_fill_ul"] == 0
