"""CONFIG: an engineer reads and sets limits (in force at CONFIRM) and mechanics
(in force at the next boot); every refusal names the key and changes nothing."""

import corehal
import pytest
from corehal import ENG_KEY, TECH_KEY, fields

from pump import limits
from pump.store import RecordStore


def engineer(hal=None):
    hal = hal or corehal.CoreHal()
    RecordStore(hal, "keys").save({"tech": TECH_KEY, "eng": ENG_KEY})
    b = corehal.Bench(hal)
    b.login(role="eng", user="eve", key=ENG_KEY)
    return b


def reboot(b):
    """The same flash and clock, a new controller: what a reset does."""
    return engineer(b.hal)


def final(b, line):
    out = [r for r in b.send(line) if not r.startswith("!")]
    return out[-1].split(" ")[0], fields(out[-1])


def frozen(b):
    return (
        dict(b.ctl.limits),
        dict(b.ctl.mech),
        b.ctl.pending,
        b.ctl.snapshot(),
        RecordStore(b.hal, "config").load(),
    )


def refused(b, line, code, key):
    before = frozen(b)
    kind, got = final(b, line)
    assert kind == "ERR" and got["code"] == code, (line, got)
    assert got.get("key") == key, got
    assert frozen(b) == before
    return got


def filled(b):
    b.ok("REFILL BEGIN")
    b.ok("REFILL ASPIRATED vol=0mL probe=2mL back=2mL")
    b.confirm("REFILL FILL vol=15mL conc=500mcg/mL conc2=500mcg/mL")
    return b


def test_config_needs_an_engineer_even_to_read():
    b = corehal.Bench()  # a technician
    for line in ("CONFIG", "CONFIG SET max_boluses_24h=2"):
        kind, got = final(b, line)
        assert kind == "ERR" and got["code"] == "E_AUTH" and got["need"] == "eng"


def test_config_lists_mechanics_and_limits():
    got = engineer().ok("CONFIG")
    assert got["syringe"] == "bd-20ml" and got["lead_um"] == "800"
    assert got["microsteps"] == "16" and got["capacity_nl"] == "20000000"
    assert int(got["ustep_pl"]) > 0
    assert got["concentrations"] == "50,500,1000,2000"
    assert got["max_daily_ng"] == str(limits.DEFAULTS["max_daily_ng"])
    assert got["titration_profile"] == "cerebral"
    assert got["reboot_pending"] == "0"


def test_limits_change_only_at_confirm_then_persist_and_log():
    b = engineer()
    review = b.ok("CONFIG SET max_boluses_24h=2 concentrations=2000,500")
    assert review["change"] == "CONFIG" and review["applies"] == "now"
    assert review["changed"] == "concentrations,max_boluses_24h"
    assert review["concentrations"] == "500,2000"  # the full result, sorted
    assert b.ctl.limits["max_boluses_24h"] == 4  # nothing yet
    b.ok("CONFIRM token=" + review["token"])
    assert b.ctl.limits["max_boluses_24h"] == 2
    assert b.ctl.limits["concentrations"] == [500, 2000]
    rows = [r for r in b.send("LOG limit=200") if " event=CONFIG " in r]
    assert rows and "max_boluses_24h=2" in rows[-1] and "applies=now" in rows[-1]
    again = reboot(b)
    assert again.ctl.limits["max_boluses_24h"] == 2
    assert again.ok("CONFIG")["concentrations"] == "500,2000"


def test_a_configured_limit_is_enforced():
    b = filled(engineer())
    b.confirm("CONFIG SET concentrations=50,1000")
    kind, got = final(b, "PROGRAM CONT dose=100mcg/day conc=500mcg/mL")
    assert kind == "ERR" and got["code"] == "E_LIMIT" and got["rule"] == "concentration"


@pytest.mark.parametrize(
    "line, code, key",
    [
        ("CONFIG SET min_bolus_ms=59999", "E_RANGE", "min_bolus_ms"),
        ("CONFIG SET max_daily_ng=-5", "E_VALUE", "max_daily_ng"),
        ("CONFIG SET max_daily_ng=99000000", "E_RANGE", "max_daily_ng"),
        ("CONFIG SET refill_interval_days=181", "E_RANGE", "refill_interval_days"),
        ("CONFIG SET titration_profile=fast", "E_VALUE", "titration_profile"),
        ("CONFIG SET concentrations=50,abc", "E_VALUE", "concentrations"),
        ("CONFIG SET concentrations=500,500", "E_VALUE", "concentrations"),
        ("CONFIG SET low_reservoir_nl=20000000", "E_RANGE", "low_reservoir_nl"),
        ("CONFIG SET max_boluses_24h=2 colour=red", "E_ARG", "colour"),
        ("CONFIG SET microsteps=3", "E_RANGE", "microsteps"),
        ("CONFIG SET syringe=bd-2ml", "E_RANGE", "syringe"),
        ("CONFIG SET lead_um=1.5", "E_VALUE", "lead_um"),
        ("CONFIG SET capacity_nl=30000000", "E_RANGE", "capacity_nl"),
    ],
)
def test_bad_values_are_refused_naming_the_key(line, code, key):
    refused(engineer(), line, code, key)


@pytest.mark.parametrize(
    "line, code",
    [
        ("CONFIG SET", "E_ARG"),
        ("CONFIG SHOW", "E_VERB"),
        ("CONFIG SET lead_um=1000 max_boluses_24h=2", "E_ARG"),
    ],
)
def test_malformed_config_requests_change_nothing(line, code):
    b = engineer()
    before = frozen(b)
    kind, got = final(b, line)
    assert kind == "ERR" and got["code"] == code
    assert frozen(b) == before


def test_mechanics_apply_at_the_next_boot_only():
    b = engineer()
    old_ustep = b.ctl.mech["ustep_pl"]
    review = b.ok("CONFIG SET syringe=bd-10ml")
    assert review["applies"] == "reboot" and review["capacity_nl"] == "10000000"
    b.ok("CONFIRM token=" + review["token"])
    assert b.ctl.mech["ustep_pl"] == old_ustep  # the running accounts are untouched
    listed = b.ok("CONFIG")
    assert listed["reboot_pending"] == "1" and listed["next_syringe"] == "bd-10ml"
    after = reboot(b)
    assert after.ctl.mech["syringe_id_um"] == 14430
    assert after.ctl.delivery.ustep_pl == after.ctl.mech["ustep_pl"] < old_ustep
    assert after.ok("STATUS")["capacity_nl"] == "10000000"
    assert after.ok("CONFIG")["reboot_pending"] == "0"


def test_mechanics_keep_the_reservoir_account_in_nanolitres():
    b = filled(engineer())
    held = b.ctl.snapshot()["reservoir_nl"]  # the persisted (write-ahead) account
    b.confirm("CONFIG SET microsteps=32")
    after = reboot(b)
    assert int(after.ok("STATUS")["reservoir_nl"]) == held
    refused(after, "CONFIG SET syringe=bd-10ml", "E_RANGE", "capacity_nl")  # 15 mL held


def test_mechanics_refused_unless_stopped():
    b = filled(engineer())
    b.confirm("PROGRAM CONT dose=100mcg/day conc=500mcg/mL")
    b.confirm("START")
    before = frozen(b)
    kind, got = final(b, "CONFIG SET lead_um=1000")
    assert kind == "ERR" and got["code"] == "E_STATE"
    assert frozen(b) == before


def test_a_corrupt_config_record_leaves_defaults_and_alarms():
    b = engineer()
    b.confirm("CONFIG SET max_boluses_24h=1")
    for slot in ("config.a", "config.b"):
        if slot in b.hal.files:
            b.hal.files[slot] = b.hal.files[slot][:-3] + b"xx}"
    after = reboot(b)
    assert after.ctl.limits == limits.DEFAULTS
    assert "MEMORY" in after.ctl.alarms.codes()
