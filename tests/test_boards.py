"""Board files, firmware compilation for the boards, and scripts/flash.py."""

import glob
import importlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BIN = os.path.dirname(os.path.abspath(sys.executable))
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

from pump import mechanics  # noqa: E402

BOARDS = ["pico_drv8825", "pico_a4988", "pico_tmc2209", "esp32_devkit"]


def _load(name):
    # Board files are plain data: they import under CPython, with no machine/rp2/esp32.
    board = importlib.import_module("boards." + name)
    assert not {"machine", "rp2", "esp32"} & set(vars(board))
    return board


@pytest.mark.parametrize("name", BOARDS)
def test_board_file(name):
    board = _load(name)
    assert isinstance(board.BOARD, str) and board.BOARD
    resolved = mechanics.resolve(board.MECHANICS)
    assert resolved["ustep_pl"] > 0
    pins = board.PINS
    for key in ("step", "dir", "enable", "ms", "provision"):
        assert key in pins
    flat = []
    for value in pins.values():
        flat.extend(value if isinstance(value, tuple) else (value,))
    assert len(flat) == len(set(flat)), "pins must be unique"
    driver = board.DRIVER
    levels = driver["ms_levels"][board.MECHANICS["microsteps"]]
    assert len(levels) == len(pins["ms"])
    for key in ("needle_detect", "stall", "provision"):
        if key in pins:
            assert board.ACTIVE[key] in (0, 1)
    assert driver["enable_active"] == 0  # all three drivers: EN active low
    if name.startswith("esp32"):
        # no strapping, flash or input-only pins for outputs
        for key in ("step", "dir", "enable"):
            assert pins[key] not in (0, 2, 5, 6, 7, 8, 9, 10, 11, 12, 15) and pins[key] < 34


def test_driver_facts():
    from boards import drivers

    assert drivers.A4988["step_high_ns"] == 1000 and max(drivers.A4988["ms_levels"]) == 16
    assert drivers.DRV8825["step_high_ns"] == 1900 and max(drivers.DRV8825["ms_levels"]) == 32
    assert drivers.TMC2209["step_high_ns"] == 100 and max(drivers.TMC2209["ms_levels"]) == 64


def _firmware_files():
    return sorted(glob.glob(os.path.join(FIRMWARE, "**", "*.py"), recursive=True))


@pytest.mark.parametrize("arch", ["armv6m", "xtensawin"])
def test_every_firmware_file_compiles(arch, tmp_path):
    mpy_cross = os.path.join(BIN, "mpy-cross")
    failures = []
    for path in _firmware_files():
        out = tmp_path / "x.mpy"
        r = subprocess.run(
            [mpy_cross, "-march=" + arch, "-o", str(out), path], capture_output=True, text=True
        )
        if r.returncode:
            failures.append(f"{os.path.relpath(path, ROOT)}: {r.stderr.strip()}")
    assert not failures, "\n".join(failures)


def _flash(*args):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "flash.py"), *args],
        capture_output=True,
        text=True,
    )


def test_flash_dry_run(tmp_path):
    build = tmp_path / "build"
    r = _flash("--port", "/dev/ttyACM0", "--board", "pico", "--dry-run", "--build-dir", str(build))
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if "mpremote connect" in line]
    assert len(lines) == 5
    assert all("connect /dev/ttyACM0" in line for line in lines)
    assert lines[0].endswith("romfs query")
    # an image left by an earlier ROMFS=1 flash is replaced by an empty one
    assert lines[1].startswith("# only if") and lines[1].endswith("deploy empty.romfs")
    assert (build / "empty.romfs").read_bytes()[:3] == b"\xd2\xcd\x31"
    assert "exec" in lines[2] and "/pumpdata" not in r.stdout  # state is never wiped
    assert "fs cp -r pump hal boards main.py board_select.py :" in lines[3]
    assert lines[4].endswith("reset")
    assert (build / "board_select.py").read_text().endswith("BOARD_MODULE = 'pico_drv8825'\n")
    assert (build / "main.py").exists() and (build / "hal" / "rp2040.mpy").exists()
    assert (build / "pump" / "mechanics.mpy").exists() and not (
        build / "boards" / "sim.mpy"
    ).exists()
    assert "-march=armv6m" in r.stdout
    assert (build / "hal" / "step_pio.mpy").read_bytes()[:1] == b"M"


def test_flash_esp32_arch(tmp_path):
    r = _flash(
        "--port", "/dev/ttyUSB0", "--board", "esp32", "--dry-run", "--build-dir", str(tmp_path)
    )
    assert r.returncode == 0, r.stderr
    assert "BOARD_MODULE = 'esp32_devkit'" in (tmp_path / "board_select.py").read_text()
    assert "-march=xtensawin" in r.stdout and (tmp_path / "hal" / "esp32.mpy").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--port", "/dev/ttyACM0", "--board", "nonsuch", "--dry-run"), "unknown board"),
        (("--board", "pico", "--dry-run"), "no port"),
        (("--port", "/dev/does-not-exist", "--board", "pico"), "not found"),
    ],
)
def test_flash_errors(args, message):
    r = _flash(*args)
    assert r.returncode != 0
    err = r.stderr.strip()
    assert message in err and len(err.splitlines()) == 1
