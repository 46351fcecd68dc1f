"""Running the real `pumpctl` as a separate process against the device under
test, as a technician or a script would, with its own configuration folder
holding the technician key (so `--login tech` works). Not a test module."""

import json
import os
import subprocess
import sys

from pumphost import auth
from pumphost.client import PumpClient

TIMEOUT_S = 10.0


def key_folder(tmp_path, port, key: bytes):
    """A per-test XDG config folder whose key store holds the technician key."""
    with PumpClient(port, timeout=TIMEOUT_S) as client:
        device = auth.device_id(client)
    store = auth.KeyStore(tmp_path / "xdg" / "pumpctl" / "keys")
    store.commit(store.stage(device, "tech", key))
    return tmp_path / "xdg"


def environment(xdg):
    env = dict(os.environ, XDG_CONFIG_HOME=str(xdg))
    env.pop("PUMP_PORT", None)
    return env


def pumpctl(xdg, port, *argv, timeout=60):
    """(exit code, stdout, stderr) of one pumpctl run."""
    result = subprocess.run(
        [sys.executable, "-m", "pumphost", "--port", port, "--timeout", str(TIMEOUT_S), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(xdg),
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stdout, result.stderr


def pumpctl_json(xdg, port, *argv):
    code, out, err = pumpctl(xdg, port, *argv, "--json")
    assert code == 0, (argv, err)
    return json.loads(out)
