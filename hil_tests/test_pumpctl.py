"""Every pumpctl subcommand, run as a separate process against the device under
test: --json output parsed, exit codes on failure, and Ctrl-C during an
interactive refill leaving the device exactly as it was."""

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest
from pumpctl_run import TIMEOUT_S, environment, key_folder, pumpctl, pumpctl_json
from session import TechnicianPump
from therapy import as_volume, aspirate_all, first_fill

from pumphost.client import PumpClient

pytestmark = pytest.mark.rig


@pytest.fixture
def xdg(tmp_path, dut, tech_key):
    return key_folder(tmp_path, dut.port, tech_key)


def filled(dut, tech_key, rig):
    """First fill through the library (setup), then the port is free for pumpctl."""
    with TechnicianPump(dut.port, tech_key, timeout=TIMEOUT_S) as pump:
        first_fill(pump, rig)
        pump.request("LOGOUT")


def device_state(port):
    with PumpClient(port, timeout=TIMEOUT_S) as client:
        fields = client.request("STATUS").fields
    fields.pop("rtc_s")  # the clock moves; nothing else may
    return fields


def test_reads_answer_json_without_a_session(dut, xdg):
    port = dut.port
    ident = pumpctl_json(xdg, port, "identify")
    assert ident["proto"].startswith("1.") and "rig" in ident["caps"]
    assert pumpctl_json(xdg, port, "status")["state"] == "STOPPED"
    assert isinstance(pumpctl_json(xdg, port, "alarms"), list)
    log = pumpctl_json(xdg, port, "log")
    assert log and log[0]["event"] == "BOOT"
    assert "device_time" in pumpctl_json(xdg, port, "clock")
    assert isinstance(pumpctl_json(xdg, "sim", "ports"), list)
    frames = [
        json.loads(line)
        for line in pumpctl(xdg, port, "watch", "--json", "--count", "2", "--interval", "0.2")[
            1
        ].splitlines()
    ]
    assert len(frames) == 2 and frames[-1]["status"]["state"] == "STOPPED"
    code, script, _ = pumpctl(xdg, port, "completion", "bash")
    assert code == 0 and "complete -F _pumpctl pumpctl" in script


def test_therapy_walk_through_every_change_command(dut, rig, tech_key, xdg):
    port = dut.port
    filled(dut, tech_key, rig)
    login = pumpctl_json(xdg, port, "login", "--user", "hil")
    assert login["role"] == "tech" and login["user"] == "hil"
    rig.call("needle", at="septum")
    with PumpClient(port, timeout=TIMEOUT_S) as client:
        got = aspirate_all(client, rig)
    rig.call("inject", ul=18000, conc_mcg_ml=500)
    done = pumpctl_json(
        xdg,
        port,
        "refill",
        "--aspirated",
        as_volume(got),
        "--add",
        "18mL",
        "--conc",
        "500mcg/mL",
        "--yes",
    )
    rig.call("needle", at="out")
    assert done["result"]["reservoir_ml"] == 18
    done = pumpctl_json(
        xdg, port, "program", "--dose", "100mcg/day", "--conc", "500mcg/mL", "--yes"
    )
    assert done["review"]["total_dose_mcg_per_day"] == 100
    assert pumpctl_json(xdg, port, "start", "--yes")["result"]["state"] == "RUNNING"
    assert (
        pumpctl_json(xdg, port, "bolus", "--dose", "20mcg", "--over", "1min", "--yes")["result"][
            "bolus_mcg"
        ]
        == 20
    )
    assert (
        pumpctl_json(xdg, port, "pause", "--reason", "hil", "--yes")["result"]["state"] == "PAUSED"
    )
    assert pumpctl_json(xdg, port, "resume", "--yes")["result"]["state"] == "RUNNING"
    assert (
        pumpctl_json(xdg, port, "stop", "--reason", "hil", "--yes")["result"]["state"] == "STOPPED"
    )
    alarms = pumpctl_json(xdg, port, "alarms")
    acked = pumpctl_json(xdg, port, "alarms", "ack", str(alarms[0]["id"]))
    assert acked["id"] == alarms[0]["id"]
    assert (
        pumpctl_json(xdg, port, "prime", "--vol", "0.1mL", "--yes")["result"]["state"] == "PRIMING"
    )
    assert "offset_s" in pumpctl_json(xdg, port, "clock", "set")
    assert pumpctl_json(xdg, port, "logout")["ended"] == "tech"
    # the same change in one run with --login, the session gone again after logout
    assert (
        pumpctl_json(xdg, port, "--login", "tech", "stop", "--reason", "hil", "--yes")["result"][
            "state"
        ]
        == "STOPPED"
    )


def test_failures_have_their_exit_codes(dut, xdg, tmp_path):
    port = dut.port
    before = device_state(port)
    code, out, err = pumpctl(xdg, port, "start", "--yes")  # no session
    assert code == 1 and "E_AUTH" in err and out == ""
    code, _, err = pumpctl(xdg, port, "config")  # a technician may not even read it
    assert code == 1 and "E_AUTH" in err
    code, _, err = pumpctl(xdg, port, "--login", "tech", "config")
    assert code == 1 and "need=eng" in err
    code, _, err = pumpctl(xdg, port, "provision", "--role", "tech", "--rekey")  # gate released
    assert code == 1 and "E_AUTH" in err
    code, _, err = pumpctl(xdg, port, "bolus", "--dose", "1mg", "--over", "1min", "--yes")
    assert code == 2 and "E_UNITS" in err
    code, _, err = pumpctl(xdg, port, "program", "--dose", "100mcg/day", "--conc", "500mcg/mL")
    assert code == 2  # no terminal to confirm on, and no --yes
    code, _, err = pumpctl(xdg, "/dev/does-not-exist", "status")
    assert code == 3
    master, slave = os.openpty()  # a port nobody answers on
    try:
        code, _, err = pumpctl(xdg, os.ttyname(slave), "--timeout", "0.5", "status")
    finally:
        os.close(master)
        os.close(slave)
    assert code == 4 and "no answer" in err
    bad = tmp_path / "bad"
    (bad / "pumpctl").mkdir(parents=True)
    (bad / "pumpctl" / "config.toml").write_text("port = \n")
    code, _, err = pumpctl(bad, port, "status")
    assert code == 2 and err.startswith("pumpctl: E_CONFIG")
    assert device_state(port) == before


def read_until(fd, text, timeout_s):
    seen = b""
    end = time.monotonic() + timeout_s
    while text.encode() not in seen:
        left = end - time.monotonic()
        assert left > 0, seen.decode(errors="replace")
        if select.select([fd], [], [], left)[0]:
            seen += os.read(fd, 4096)
    return seen.decode(errors="replace")


def test_ctrl_c_during_an_interactive_refill_changes_nothing(dut, rig, tech_key, xdg):
    port = dut.port
    filled(dut, tech_key, rig)
    rig.call("needle", at="septum")
    before = device_state(port)
    master, slave = os.openpty()  # a technician's terminal
    proc = subprocess.Popen(
        [sys.executable, "-m", "pumphost", "--port", port, "--login", "tech", "refill"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environment(xdg),
    )
    try:
        # asked only after the device accepted REFILL BEGIN (pumpctl holds the port)
        read_until(master, "spirat", 20)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
        said = read_until(master, "REFILL ABORT sent", 5)
        assert "exactly as before" in said
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
        os.close(slave)
    assert device_state(port) == before
