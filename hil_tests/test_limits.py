"""Issue 5 through the simulator: every dose limit and titration rule refuses
with its rule and limit and changes nothing; the override path is logged."""

import pytest
from therapy import confirm, first_fill, start_continuous, status

from pumphost.errors import PumpError

HOUR_MS = 3_600_000


def refused(pump, rule, verb, *words, **args):
    before = status(pump)
    with pytest.raises(PumpError) as caught:
        pump.request(verb, *words, **args)
    err = caught.value
    assert err.code == "E_LIMIT" and err.fields["rule"] == rule and err.fields["limit"]
    after = status(pump)
    for key in ("state", "program", "dose_ng_day", "rate_nl_day", "reservoir_nl", "bolus_ng"):
        assert after[key] == before[key], key
    return err


@pytest.mark.rig
def test_programme_limits(rig, pump):
    first_fill(pump, rig)
    refused(pump, "concentration", "PROGRAM", "CONT", dose="100mcg/day", conc="750mcg/mL")
    refused(pump, "max_daily_dose", "PROGRAM", "CONT", dose="1500mcg/day", conc="500mcg/mL")


@pytest.mark.rig
def test_bolus_limits(rig, pump):
    first_fill(pump, rig)
    start_continuous(pump)
    refused(pump, "min_bolus_duration", "BOLUS", dose="50mcg", over="30s")
    refused(pump, "max_bolus_dose", "BOLUS", dose="150mcg", over="5min")
    confirm(pump, "BOLUS", dose="50mcg", over="1min")
    rig.call("advance", ms=HOUR_MS // 2)
    refused(pump, "bolus_lockout", "BOLUS", dose="50mcg", over="1min")
    for _ in range(3):
        rig.call("advance", ms=HOUR_MS)
        confirm(pump, "BOLUS", dose="25mcg", over="1min")
    rig.call("advance", ms=HOUR_MS)
    refused(pump, "max_boluses_24h", "BOLUS", dose="25mcg", over="1min")


@pytest.mark.rig
def test_titration_rules_and_the_logged_override(rig, pump):
    first_fill(pump, rig)
    start_continuous(pump, dose="100mcg/day")
    refused(pump, "titration_first_24h", "PROGRAM", "CONT", dose="110mcg/day", conc="500mcg/mL")
    # decreases always pass
    confirm(pump, "PROGRAM", "CONT", dose="90mcg/day", conc="500mcg/mL")
    rig.call("advance", ms=25 * HOUR_MS)
    confirm(pump, "PROGRAM", "CONT", dose="100mcg/day", conc="500mcg/mL")
    refused(pump, "titration_once_per_24h", "PROGRAM", "CONT", dose="105mcg/day", conc="500mcg/mL")
    rig.call("advance", ms=25 * HOUR_MS)
    err = refused(pump, "titration_step", "PROGRAM", "CONT", dose="130mcg/day", conc="500mcg/mL")
    assert err.fields["limit"] == "115000"
    review, _ = confirm(
        pump,
        "PROGRAM",
        "CONT",
        dose="130mcg/day",
        conc="500mcg/mL",
        override="spinal origin, ITB clinic",
    )
    assert review.fields["dose_increase"] == "1"
    assert status(pump)["dose_ng_day"] == "130000"
    log = pump.request("LOG", limit="200")
    overrides = [row.fields for row in log.rows if row.fields.get("event") == "TITRATION_OVERRIDE"]
    assert overrides and overrides[-1]["reason"] == "spinal origin, ITB clinic"
