"""Issue 5 dose limits and titration rules: each refusal names its rule and
limit and changes nothing; the override path is logged."""

from test_therapy_commands import err, filled

HOUR_US = 3_600_000_000


def running(dose="100mcg/day"):
    b = filled()
    b.confirm(f"PROGRAM CONT dose={dose} conc=500mcg/mL")
    b.confirm("START")
    return b


def refused(b, line, rule):
    before = b.ctl.snapshot()
    got = err(b, line)
    assert got["code"] == "E_LIMIT" and got["rule"] == rule and got["limit"], got
    assert b.ctl.snapshot() == before and b.ctl.pending is None
    return got


def test_no_increase_in_the_first_24_hours_but_decreases_pass():
    b = running()
    b.run_for(23 * HOUR_US)
    refused(b, "PROGRAM CONT dose=105mcg/day conc=500mcg/mL", "titration_first_24h")
    assert b.confirm("PROGRAM CONT dose=90mcg/day conc=500mcg/mL")["dose_ng_day"] == "90000"


def test_one_increase_per_24_hours_within_the_step():
    b = running()
    b.run_for(25 * HOUR_US)
    assert b.confirm("PROGRAM CONT dose=115mcg/day conc=500mcg/mL")["dose_ng_day"] == "115000"
    refused(b, "PROGRAM CONT dose=120mcg/day conc=500mcg/mL", "titration_once_per_24h")
    b.run_for(25 * HOUR_US)
    got = refused(b, "PROGRAM CONT dose=140mcg/day conc=500mcg/mL", "titration_step")
    assert got["limit"] == "132250"  # 115 mcg/day + 15 % (conservative profile)


def test_override_with_a_reason_passes_and_is_logged():
    b = running()
    b.run_for(25 * HOUR_US)
    review = b.ok('PROGRAM CONT dose=150mcg/day conc=500mcg/mL override="spinal origin, Dr Rao"')
    assert review["dose_increase"] == "1" and review["override"] == "spinal origin, Dr Rao"
    b.ok("CONFIRM token=" + review["token"])
    kinds = {e[2]: e[3] for e in b.ctl.log.read(0, 2**40, 0, 10_000)}
    assert kinds["TITRATION_OVERRIDE"]["reason"] == "spinal origin, Dr Rao"


def test_bolus_lockout_and_daily_count():
    b = running()
    b.confirm("BOLUS dose=50mcg over=1min")
    b.run_for(30 * 60_000_000)
    refused(b, "BOLUS dose=50mcg over=1min", "bolus_lockout")
    for _ in range(3):
        b.run_for(HOUR_US)
        b.confirm("BOLUS dose=25mcg over=1min")
    b.run_for(HOUR_US)
    refused(b, "BOLUS dose=25mcg over=1min", "max_boluses_24h")


def test_volume_rate_ceiling_is_separate_from_the_dose_ceiling():
    b = filled()
    b.ctl.limits["max_rate_nl_day"] = 1_000_000  # a device configured for 1 mL/day at most
    refused(b, "PROGRAM CONT dose=600mcg/day conc=500mcg/mL", "max_rate")
