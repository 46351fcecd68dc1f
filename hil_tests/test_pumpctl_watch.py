"""A terminal session recorded through tmux: `pumpctl watch` renders the status
table, and survives a simulated board reset (rig power_cycle): it says it is
reconnecting, reopens the port and goes on rendering, now with RESTARTED."""

import secrets
import shutil
import subprocess
import sys
import time

import pytest
from pumpctl_run import TIMEOUT_S, environment, key_folder
from session import TechnicianPump

pytestmark = [
    pytest.mark.rig,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """One detached tmux server of our own (its own socket), one pane."""

    def __init__(self, command, env):
        self.socket = "pumpctl-watch-" + secrets.token_hex(4)
        # the shell keeps the pane (and its last screen) if pumpctl exits early
        self.tmux("new-session", "-d", "-x", "120", "-y", "70", f"{command}; sleep 60", env=env)

    def tmux(self, *args, env=None):
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=True,
        ).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def wait_for(self, *texts, timeout_s=8.0):
        end = time.monotonic() + timeout_s
        while True:
            shown = self.screen()
            if all(text in shown for text in texts):
                return shown
            assert time.monotonic() < end, f"never showed {texts}:\n{shown}"
            time.sleep(0.1)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def test_watch_renders_and_survives_a_board_reset(dut, rig, tech_key, tmp_path):
    xdg = key_folder(tmp_path, dut.port, tech_key)
    with TechnicianPump(dut.port, tech_key, timeout=TIMEOUT_S) as pump:
        # something to restore: a board with no saved state boots fresh, not RESTARTED
        pump.request("CLOCK", "SET", rtc_s=1_900_000_000)
    command = f"{sys.executable} -m pumphost --port {dut.port} --timeout 1 watch --interval 0.2"
    term = Tmux(command, environment(xdg))
    try:
        first = term.wait_for("Pump status", "state", "STOPPED")
        assert "RESTARTED" not in first
        rig.call("power_cycle")
        shown = term.wait_for("reconnected", "RESTARTED", "Pump status")
        assert "STOPPED" in shown and "Traceback" not in shown
    finally:
        term.close()
