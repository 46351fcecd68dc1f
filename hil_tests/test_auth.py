"""Access control through the device's serial line (docs/security.md): what a
stranger with the USB cable can and cannot do, and pumpctl's provision, login
and logout with the key store. Runs on a board too, where it can."""

import json
import os
import stat
import subprocess
import sys

import pytest
from session import HIL_USER

from pumphost import auth
from pumphost.errors import PumpError

WRONG_KEY = bytes(range(32))


def refused(client, verb, *words, **args):
    with pytest.raises(PumpError) as caught:
        client.request(verb, *words, **args)
    assert caught.value.code == "E_AUTH", caught.value
    return caught.value


def login_line(client, key, role="tech", user=HIL_USER):
    """A complete login exchange as an eavesdropper would capture it."""
    c = client.request("AUTH", "CHALLENGE").fields
    mac = auth.login_mac(key, c["id"], c["nonce"], role, user)
    return {"role": role, "user": user, "mac": mac}


def test_a_stranger_reads_but_changes_nothing(pump_anon):
    before = pump_anon.request("STATUS").fields
    for verb, words, args in (
        ("PROGRAM", ("CONT",), {"dose": "100mcg/day", "conc": "500mcg/mL"}),
        ("REFILL", ("BEGIN",), {}),
        ("CLOCK", ("SET",), {"rtc_s": 1_900_000_000}),
        ("ACK", (), {"id": 1}),
    ):
        error = refused(pump_anon, verb, *words, **args)
        assert error.fields["need"] == "tech" and error.fields["have"] == "none"
    pump_anon.request("ALARMS")
    pump_anon.request("CLOCK")
    assert pump_anon.request("STATUS").fields == before


def test_a_wrong_key_and_a_replayed_login_are_refused(pump_anon, tech_key):
    assert refused(pump_anon, "AUTH", "RESPONSE", **login_line(pump_anon, WRONG_KEY))
    captured = login_line(pump_anon, tech_key)
    assert pump_anon.request("AUTH", "RESPONSE", **captured).fields["role"] == "tech"
    pump_anon.request("LOGOUT")
    assert "no live challenge" in refused(pump_anon, "AUTH", "RESPONSE", **captured).message
    pump_anon.request("AUTH", "CHALLENGE")
    refused(pump_anon, "AUTH", "RESPONSE", **captured)
    refused(pump_anon, "REFILL", "BEGIN")


def test_failures_lock_logins_out(pump_anon, tech_key):
    errors = [
        refused(pump_anon, "AUTH", "RESPONSE", **login_line(pump_anon, WRONG_KEY)) for _ in range(3)
    ]
    assert [e.fields.get("tries_left") for e in errors] == ["2", "1", "0"]
    assert errors[-1].fields == {"tries_left": "0", "retry_s": "30"}
    assert refused(pump_anon, "AUTH", "CHALLENGE").fields["retry_s"] == "30"


@pytest.mark.rig
def test_an_idle_session_expires(rig, pump_anon, tech_key):
    auth.authenticate(pump_anon, "tech", HIL_USER, key=tech_key)
    pump_anon.request("CANCEL")
    rig.call("advance", ms=600_000)
    assert "expired" in refused(pump_anon, "CANCEL").message
    assert pump_anon.request("AUTH", "STATUS").fields["role"] == "none"


def test_provisioning_outside_the_gated_mode_is_refused(pump_anon, tech_key):
    error = refused(pump_anon, "PROVISION", role="tech", key=WRONG_KEY.hex())
    assert "physical gate" in error.message
    # the old key still works, so nothing changed
    auth.authenticate(pump_anon, "tech", HIL_USER, key=tech_key)


def pumpctl(dut, tmp_path, *argv):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run(
        [sys.executable, "-m", "pumphost", "--port", dut.port, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.mark.rig
def test_pumpctl_provision_login_logout(dut, rig, tmp_path):
    if dut.sim is None:
        pytest.skip("provisioning a board needs its jumper: not automated")
    done = pumpctl(dut, tmp_path, "provision", "--role", "tech", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    key_file = tmp_path / "config" / "pumpctl" / "keys" / f"{info['device_id']}.tech.key"
    assert info["key_file"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = key_file.read_text().strip()
    assert len(key) == 64 and key not in done.stdout + done.stderr
    again = pumpctl(dut, tmp_path, "provision", "--role", "tech")
    assert again.returncode == 2 and "--rekey" in again.stderr

    rig.call("provision_gate", held=False)
    refused_run = pumpctl(dut, tmp_path, "provision", "--role", "tech", "--rekey")
    assert refused_run.returncode == 1 and "E_AUTH" in refused_run.stderr
    assert key_file.read_text().strip() == key and not list(key_file.parent.glob("*.new"))

    done = pumpctl(dut, tmp_path, "login", "--user", "ann", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"role": "tech", "user": "ann", "idle_s": 600}
    assert key not in done.stdout + done.stderr
    # the session lives on the device: a later pumpctl run uses it
    assert pumpctl(dut, tmp_path, "clock", "set").returncode == 0
    done = pumpctl(dut, tmp_path, "logout", "--json")
    assert json.loads(done.stdout) == {"ended": "tech"}
    assert pumpctl(dut, tmp_path, "clock", "set").returncode == 1

    assert pumpctl(dut, tmp_path, "login", "--role", "eng").returncode == 2  # no eng key
    key_file.chmod(0o644)
    done = pumpctl(dut, tmp_path, "login")
    assert done.returncode == 2 and "chmod 600" in done.stderr
