"""Access control in the firmware core (docs/security.md): reads are open, every
change needs a session opened by challenge-response, a captured login cannot be
replayed, idle sessions lapse, provisioning needs the physical gate, and guessing
is rate-limited. Every refusal is E_AUTH and changes nothing."""

import hashlib
import hmac
import os

import corehal
import pytest
from corehal import ENG_KEY, TECH_KEY, auth_mac, fields

from pump import access
from pump.store import RecordStore

MIN_US = 60_000_000
WRONG_KEY = "77" * 32


def running():
    """A filled pump running a programme, reached as the default technician."""
    b = corehal.Bench()
    b.ok("REFILL BEGIN")
    b.ok("REFILL ASPIRATED vol=0mL probe=2mL back=2mL")
    b.confirm("REFILL FILL vol=18mL conc=500mcg/mL conc2=500mcg/mL")
    b.confirm("PROGRAM CONT dose=100mcg/day conc=500mcg/mL")
    b.confirm("START")
    return b


def anonymous(b):
    """The same pump, the technician gone: logged out and not coming back."""
    b.ok("LOGOUT")
    b.relogin = False
    return b


def final(b, line):
    out = [r for r in b.send(line) if not r.startswith("!")]
    return out[-1].split(" ")[0], fields(out[-1])


def refused(b, line):
    before = (b.ctl.snapshot(), b.ctl.pending, b.ctl.refill, b.hal.rtc_s())
    kind, got = final(b, line)
    assert kind == "ERR" and got["code"] == "E_AUTH", (line, got)
    assert (b.ctl.snapshot(), b.ctl.pending, b.ctl.refill, b.hal.rtc_s()) == before
    return got


def challenge(b):
    return b.ok("AUTH CHALLENGE")


def respond(b, c, key=TECH_KEY, role="tech", user="alice"):
    mac = auth_mac(key, c["id"], c["nonce"], role, user)
    return f"AUTH RESPONSE role={role} user={user} mac={mac}"


CHANGES = [
    "PROGRAM CONT dose=150mcg/day conc=500mcg/mL",
    "BOLUS dose=50mcg over=1min",
    "PRIME vol=0.2mL",
    "START",
    "STOP reason=test",
    "PAUSE reason=test",
    "RESUME",
    "CONFIRM token=ABCDEF",
    "CANCEL",
    "ACK id=1",
    "REFILL BEGIN",
    "CLOCK SET rtc_s=1900000000",
]


@pytest.mark.parametrize("key", [b"", b"k" * 32, b"x" * 64, b"y" * 65, os.urandom(200)])
def test_firmware_hmac_matches_cpython(key):
    for msg in (b"", b"abc", b"0123456789abcdef|nonce|tech|alice" * 9):
        assert access.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


def test_reads_are_open_and_every_change_needs_a_session():
    b = anonymous(running())
    for line in ("VERSION", "STATUS", "ALARMS", "CLOCK", "AUTH STATUS"):
        assert final(b, line)[0] == "OK", line
    for line in CHANGES:
        got = refused(b, line)
        assert got["need"] == "tech" and got["have"] == "none"
        assert "AUTH CHALLENGE" in got["msg"]


def test_a_wrong_key_opens_no_session_and_changes_nothing():
    b = anonymous(running())
    got = refused(b, respond(b, challenge(b), key=WRONG_KEY))
    assert got["msg"] == "authentication failed" and got["tries_left"] == "2"
    assert b.ctl.access.session is None
    refused(b, "STOP reason=intruder")
    # a technician MAC does not open an engineering session either
    refused(b, respond(b, challenge(b), role="eng"))
    assert b.ok("AUTH STATUS")["role"] == "none"


def test_login_opens_a_session_that_logout_ends_with_its_pending_change():
    b = anonymous(running())
    assert b.ok(respond(b, challenge(b))) == {"role": "tech", "user": "alice", "idle_s": "600"}
    status = b.ok("AUTH STATUS")
    assert status["role"] == "tech" and status["user"] == "alice" and status["idle_left_s"] == "600"
    token = b.ok("PAUSE reason=lunch")["token"]
    assert b.ok("LOGOUT")["ended"] == "tech"
    assert b.ctl.pending is None
    refused(b, "CONFIRM token=" + token)
    assert b.ok("LOGOUT")["ended"] == "-"


def test_a_captured_exchange_cannot_be_replayed():
    b = anonymous(running())
    c = challenge(b)
    captured = respond(b, c)
    assert final(b, captured)[0] == "OK"
    b.ok("LOGOUT")
    got = refused(b, captured)  # the nonce was used up by the first login
    assert "no live challenge" in got["msg"]
    challenge(b)  # a fresh challenge does not revive the old response
    assert refused(b, captured)["msg"] == "authentication failed"
    assert b.ctl.access.session is None


def test_a_nonce_is_used_up_by_a_failed_response_too():
    b = anonymous(running())
    c = challenge(b)
    refused(b, respond(b, c, key=WRONG_KEY))
    assert "no live challenge" in refused(b, respond(b, c))["msg"]


def test_a_malformed_response_is_refused_without_using_the_nonce():
    b = anonymous(running())
    c = challenge(b)
    for line in (
        "AUTH RESPONSE role=tech user=alice mac=12",
        "AUTH RESPONSE role=boss user=alice mac=" + "0" * 64,
        'AUTH RESPONSE role=tech user="a b" mac=' + "0" * 64,
        "AUTH RESPONSE role=tech user=alice",
    ):
        kind, got = final(b, line)
        assert kind == "ERR" and got["code"] in ("E_VALUE", "E_ARG"), (line, got)
    assert b.ctl.access.fails == 0
    assert final(b, respond(b, c))[0] == "OK"


def test_a_stale_challenge_is_refused():
    b = anonymous(running())
    c = challenge(b)
    b.run_for(access.NONCE_LIFETIME_US)
    assert "no live challenge" in refused(b, respond(b, c))["msg"]


def test_an_idle_session_expires_and_use_keeps_it_alive():
    b = anonymous(running())
    b.ok(respond(b, challenge(b)))
    b.run_for(9 * MIN_US)
    b.ok("CANCEL")  # a gated command restarts the idle time
    b.run_for(9 * MIN_US)
    b.ok("STATUS")  # an open one does not
    b.run_for(MIN_US)
    got = refused(b, "STOP reason=late")
    assert "expired" in got["msg"]
    assert b.ctl.access.session is None
    refused(b, "STOP reason=late")  # still refused: a new login is needed


def test_engineer_may_do_what_a_technician_may_but_not_the_reverse():
    hal = corehal.CoreHal()
    RecordStore(hal, "keys").save({"tech": TECH_KEY, "eng": ENG_KEY})
    b = corehal.Bench(hal, login=False)
    b.ok(respond(b, challenge(b), key=ENG_KEY, role="eng", user="eve"))
    assert final(b, "CLOCK SET rtc_s=1900000000")[0] == "OK"
    assert access.required_role(["CONFIG"]) == "eng"
    assert access.required_role(["CONFIG", "SHOW"]) == "eng"
    assert access.required_role(["CLOCK", "SET"]) == "tech"
    assert access.required_role(["LOG"]) is None
    b.ok(respond(b, challenge(b)))
    with pytest.raises(Exception, match="needs an engineering session"):
        b.ctl.access.require(["CONFIG"])


def test_an_unprovisioned_pump_refuses_changes_saying_it_must_be_provisioned():
    b = corehal.Bench(login=False)
    got = refused(b, "REFILL BEGIN")
    assert "must be provisioned" in got["msg"]
    assert b.ok("AUTH STATUS")["provisioned"] == "-"


def test_provisioning_outside_the_gated_mode_is_refused():
    b = corehal.Bench(corehal.CoreHal(gate_held=False), login=False)
    got = refused(b, f"PROVISION role=tech key={TECH_KEY}")
    assert got["msg"] == "provisioning needs the physical gate: hold it while the pump boots"
    assert b.hal.fs_read("keys.a") is None and b.hal.fs_read("keys.b") is None
    # a provisioned pump cannot be re-keyed without the gate either
    hal = corehal.CoreHal()
    b = corehal.Bench(hal)
    refused(b, f"PROVISION role=tech key={WRONG_KEY}")
    assert RecordStore(hal, "keys").load()[0] == {"tech": TECH_KEY}


def test_gated_provisioning_persists_rekeys_and_never_echoes_the_key():
    hal = corehal.CoreHal(gate_held=True)
    b = corehal.Bench(hal, login=False)
    out = b.send(f"PROVISION role=tech key={WRONG_KEY}")
    assert fields(out[-1]) == {"role": "tech", "provisioned": "tech"}
    b.ok(respond(b, challenge(b), key=WRONG_KEY))
    out += b.send(f"PROVISION role=tech key={TECH_KEY.upper()}")  # re-key ends that session
    assert b.ok("AUTH STATUS")["role"] == "none"
    assert b.ok(f"PROVISION role=eng key={ENG_KEY}")["provisioned"] == "tech,eng"
    assert final(b, "PROVISION role=tech key=" + "00" * 32)[1]["code"] == "E_VALUE"
    hal.gate_held = False  # released, and a reboot
    b = corehal.Bench(hal, login=False)
    assert refused(b, respond(b, challenge(b), key=WRONG_KEY))["msg"] == "authentication failed"
    assert final(b, respond(b, challenge(b)))[0] == "OK"
    everything = " ".join(out) + repr(hal.files) + bytes(hal.tx).decode()
    assert WRONG_KEY not in everything.lower()


def test_repeated_failures_lock_logins_out_for_growing_times_and_are_logged():
    b = anonymous(running())
    pushed = []
    for expect_left in ("2", "1", "0"):
        out = b.send(respond(b, challenge(b), key=WRONG_KEY))
        pushed += out
        assert fields(out[-1])["tries_left"] == expect_left
    assert fields(out[-1])["retry_s"] == "30"
    assert sum("event=AUTH_FAIL" in line for line in pushed) == 3
    assert any("event=AUTH_LOCKOUT" in line and "lock_s=30" in line for line in pushed)
    got = refused(b, "AUTH CHALLENGE")  # even the right key cannot be tried now
    assert got["retry_s"] == "30"
    b.run_for(29 * 1_000_000)
    assert refused(b, "AUTH CHALLENGE")["retry_s"] == "1"
    b.run_for(1_000_000)
    for _ in range(3):
        refused(b, respond(b, challenge(b), key=WRONG_KEY))
    assert refused(b, "AUTH CHALLENGE")["retry_s"] == "60"  # the second lockout is longer
    # a reboot does not lift it
    b = corehal.Bench(b.hal, login=False)
    assert refused(b, "AUTH CHALLENGE")["retry_s"] == "60"
    b.run_for(60 * 1_000_000)
    assert final(b, respond(b, challenge(b)))[0] == "OK"
    assert b.ok("AUTH STATUS")["fails"] == "0"


def test_the_device_id_is_random_persistent_and_in_version():
    hal = corehal.CoreHal()
    first = corehal.Bench(hal).ok("VERSION")["id"]
    assert len(first) == 16 and int(first, 16) >= 0
    assert corehal.Bench(hal).ok("VERSION")["id"] == first
    assert corehal.Bench().ok("VERSION")["id"] != first
