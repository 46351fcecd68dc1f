"""Issue 2: the whole path, host -> serial line -> firmware -> plant, on a device
under test that answers like a board."""

import json
import os
import random
import subprocess
import sys
import time

import pytest
import serial

from pumphost.wire import crc16


def read_line(port, deadline_s=10.0):
    end = time.monotonic() + deadline_s
    buf = b""
    while time.monotonic() < end:
        buf += port.read_until(b"\n")
        if buf.endswith(b"\n"):
            return buf.decode().strip()
    raise AssertionError(f"no line from the device (got {buf!r})")


def replies(port, n):
    """The next n reply lines (unsolicited '!' lines are skipped)."""
    out = []
    while len(out) < n:
        line = read_line(port)
        if not line.startswith("!"):
            out.append(line)
    return out


def check_crc(line):
    body, check = line.rsplit(" *", 1)
    assert int(check, 16) == crc16(body.encode()), line


def test_identify_reports_protocol_board_and_capabilities(pump):
    ident = pump.request("VERSION").fields
    assert ident["proto"].split(".")[0] == "1"
    assert ident["fw"] and ident["board"]


def test_raw_status_typed_in_a_terminal_answers(dut, pump):
    pump.close()  # a technician's terminal, not the client, owns the line now
    with serial.Serial(dut.port, 115200, timeout=1) as port:
        port.write(b"STATUS\r\n")
        line = replies(port, 1)[0]
    check_crc(line)
    assert line.startswith("OK state=")


def test_random_bytes_each_get_an_error_or_are_discarded(dut, pump):
    pump.close()
    rng = random.Random(2)
    with serial.Serial(dut.port, 115200, timeout=1) as port:
        for _ in range(1000):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
            junk = junk.replace(b"\n", b"").replace(b"\r", b"")
            port.write(b"@z " + junk + b"\n")
            line = replies(port, 1)[0]
            check_crc(line)
            assert " ERR code=E_" in line or line.startswith("ERR code=E_"), line
        port.write(b"@ok STATUS\n")
        assert replies(port, 1)[0].startswith("@ok OK state=")


def test_pumpctl_status_json_against_the_device(dut, pump):
    pump.close()
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-m", "pumphost", "--port", dut.port, "status", "--json"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    for key in ("state", "reservoir_ml", "concentration_mcg_per_ml", "dose_mcg_per_day",
                "rate_ml_per_day", "delivered_ml", "alarms"):
        assert key in status
    assert status["state"] == "STOPPED" and status["alarms"] == []


@pytest.mark.rig
def test_time_stands_still_until_the_rig_advances_it(rig, pump):
    before = int(pump.request("STATUS").fields["rtc_s"])
    assert before == rig.call("now")["rtc_s"]
    rig.call("advance", ms=3_600_000)
    assert int(pump.request("STATUS").fields["rtc_s"]) == before + 3600
