"""The pty serial line, the flash through the HAL, the info file and the CLI,
with stand-in firmware (pumpsim.fakes)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import serial

from pumpsim import Simulator
from pumpsim.board import board_mechanics, load_mechanics
from pumpsim.clock import TICKS_MS_START
from pumpsim.fakes import ECHO, write_firmware
from pumpsim.rigclient import RigClient
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR

MECH = load_mechanics(DEFAULT_FIRMWARE_DIR)


@pytest.fixture
def sim(tmp_path):
    fw = write_firmware(tmp_path / "fw", ECHO)
    s = Simulator(fw, mechanics=MECH, stepped=True, flash_dir=tmp_path / "flash").start()
    yield s
    s.stop()


@pytest.fixture
def port(sim):
    with serial.Serial(sim.pty_path, timeout=10, exclusive=True) as p:
        yield p


def ask(port, line):
    port.write(line + b"\n")
    return port.readline()


def test_pty_round_trip_at_a_frozen_instant(port, sim):
    assert ask(port, b"hello pump") == b"echo hello pump\n"
    # Stepped mode: serving the line took no virtual time; ticks start before the wrap.
    assert ask(port, b"T") == b"%d 0 power_on 1735689600\n" % TICKS_MS_START
    assert sim.clock.now_us == 0


def test_binary_and_bulk_bytes_pass_unchanged(port):
    payload = bytes(b for b in range(256) if b != 10) * 40  # 10 kB, raw 8-bit
    port.write(payload + b"\n")
    reply = port.read(len(payload) + 6)
    assert reply == b"echo " + payload + b"\n"


def test_flash_through_the_hal_and_a_torn_write(port, sim, tmp_path):
    assert ask(port, b"Wstate=first") == b"ok\n"
    assert (tmp_path / "flash" / "state").read_bytes() == b"first"
    sim.flash.arm_tear(2)
    port.write(b"Wstate=second\n")  # power dies in the middle of this write
    sim.machine.wait_quiescent(1, timeout_s=10)
    assert sim.mcu()["boots"] == 2
    assert ask(port, b"Rstate") == b"b'se'\n"


def test_info_file_announces_the_simulator_and_goes_away(tmp_path):
    info = tmp_path / "current.json"
    fw = write_firmware(tmp_path / "fw", ECHO)
    with Simulator(fw, mechanics=MECH, stepped=True, info_file=info) as s:
        data = json.loads(info.read_text())
        assert data == {"pty": s.pty_path, "rig": s.rig_address, "pid": os.getpid()}
    assert not info.exists()


def test_missing_firmware_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no main.py"):
        Simulator(tmp_path, mechanics=MECH).start()


def wait_for_file(path, proc, timeout_s=20):
    give_up = time.monotonic() + timeout_s
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < give_up, "pump-sim did not write its info file"
        time.sleep(0.02)  # polling for a file another process creates
    return json.loads(path.read_text())


def run_cli(tmp_path, *extra):
    fw = write_firmware(tmp_path / "fw", ECHO, mechanics_from=DEFAULT_FIRMWARE_DIR)
    info = tmp_path / "info.json"
    cmd = [
        sys.executable,
        "-m",
        "pumpsim.cli",
        "--firmware",
        str(fw),
        "--stepped",
        "--info-file",
        str(info),
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, info, wait_for_file(info, proc)


def test_cli_serves_until_sigterm_and_cleans_up(tmp_path):
    proc, info, data = run_cli(tmp_path)
    try:
        with serial.Serial(data["pty"], timeout=10) as p:
            assert ask(p, b"ping") == b"echo ping\n"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "serial: {}".format(data["pty"]) in out and "rig: {}".format(data["rig"]) in out
    assert not info.exists()


def test_cli_stops_on_rig_shutdown(tmp_path):
    proc, info, data = run_cli(tmp_path, "--epoch", "2030-06-01T12:00:00")
    try:
        with RigClient(data["rig"], timeout=30) as rig:
            assert rig.call("now")["rtc_s"] == 1_906_545_600
            rig.call("shutdown")
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and not info.exists()


def test_cli_help_and_bad_options():
    out = subprocess.run(
        [sys.executable, "-m", "pumpsim.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "--delivery-log" in out.stdout and "--stepped" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pumpsim.cli", "--speed", "-3"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "speed must be a positive number" in bad.stderr


def test_default_board_mechanics_reach_hal_and_plant():
    sim = Simulator(stepped=True)  # the repository's firmware and boards/sim.py
    try:
        assert sim.hal.mechanics == board_mechanics(DEFAULT_FIRMWARE_DIR)
        assert sim.plant.capacity_ul == sim.hal.mechanics["capacity_nl"] / 1000
    finally:
        sim.stop()
