"""scripts/flash.py --romfs: the ROMFS image it builds, the commands it prints, and
the check that the board has a ROMFS partition before anything on it changes."""

import glob
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
FLASH = os.path.join(ROOT, "scripts", "flash.py")
ROMFS_MAGIC = b"\xd2\xcd\x31"  # mpremote/romfs.py, VfsRomWriter.ROMFS_HEADER


def _flash(*args):
    return subprocess.run([sys.executable, FLASH, *args], capture_output=True, text=True)


def _load_flash():
    spec = importlib.util.spec_from_file_location("flash_script", FLASH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _uint(data, pos):
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def _records(data, pos, end, prefix, files):
    # Record kinds (mpremote/romfs.py): 1 padding, 2 verbatim data, 4 directory, 5 file.
    while pos < end:
        kind, pos = _uint(data, pos)
        length, pos = _uint(data, pos)
        body_end = pos + length
        if kind in (4, 5):
            name_len, p = _uint(data, pos)
            name = data[p : p + name_len].decode()
            p += name_len
            if kind == 4:
                _records(data, p, body_end, prefix + name + "/", files)
            else:
                data_kind, p = _uint(data, p)
                data_len, p = _uint(data, p)
                assert data_kind == 2, "file data must be stored verbatim"
                files[prefix + name] = data[p : p + data_len]
        pos = body_end


def parse_romfs(data):
    """{path: bytes} of every file in a ROMFS image (format of mpremote/romfs.py)."""
    assert data[:3] == ROMFS_MAGIC
    size, pos = _uint(data, 3)
    files = {}
    _records(data, pos, pos + size, "", files)
    return files


def _expected_mpy():
    paths = set()
    for package in ("pump", "hal", "boards"):
        for path in glob.glob(os.path.join(FIRMWARE, package, "**", "*.py"), recursive=True):
            rel = os.path.relpath(path, FIRMWARE).replace(os.sep, "/")
            if rel != "boards/sim.py":
                paths.add(rel[:-3] + ".mpy")
    return paths


@pytest.mark.parametrize("board, arch", [("pico", "armv6m"), ("esp32", "xtensawin")])
def test_romfs_dry_run(tmp_path, board, arch):
    build = tmp_path / "build"
    args = ("--port", "/dev/ttyACM0", "--board", board, "--romfs", "--dry-run")
    r = _flash(*args, "--build-dir", str(build))
    assert r.returncode == 0, r.stderr
    assert f"-march={arch}" in r.stdout and "/pumpdata" not in r.stdout
    assert "romfs --no-mpy --output firmware.romfs build romfs" in r.stdout

    # The image: a ROMFS holding exactly the compiled packages, byte for byte what
    # mpy-cross -march made (mpremote compiled nothing again), no source, no main.py.
    image = (build / "firmware.romfs").read_bytes()
    assert image[:3] == ROMFS_MAGIC
    assert f"{len(image)} bytes" in r.stdout
    files = parse_romfs(image)
    assert set(files) == _expected_mpy()
    assert "boards/sim.mpy" not in files and "main.py" not in files
    assert "board_select.py" not in files and not any(n.endswith(".py") for n in files)
    for name, data in files.items():
        assert data == (build / "romfs" / name).read_bytes(), name
        assert data[:2] == b"M\x06", name

    # The commands: check the partition, clean the filesystem, deploy the image,
    # copy main.py and board_select.py to the filesystem, reset.
    lines = [line for line in r.stdout.splitlines() if " connect /dev/ttyACM0 " in line]
    assert len(lines) == 5
    assert lines[0].endswith("romfs query")
    assert " exec " in lines[1] and "'/pump'" in r.stdout and "'/boards'" in r.stdout
    assert lines[2].endswith("romfs --partition 0 deploy firmware.romfs")
    assert lines[3].endswith("fs cp main.py board_select.py :")
    assert lines[4].endswith("reset")
    # main.py and board_select.py are built for the filesystem, not into the image.
    assert (build / "main.py").exists()
    module = "pico_drv8825" if board == "pico" else "esp32_devkit"
    assert (build / "board_select.py").read_text().endswith(f"BOARD_MODULE = {module!r}\n")
    assert not (build / "pump").exists()  # the packages are only in romfs/


def test_romfs_port_not_found_error_unchanged():
    args = ("--port", "/dev/does-not-exist", "--board", "pico")
    plain, romfs = _flash(*args), _flash(*args, "--romfs")
    assert romfs.returncode == plain.returncode != 0
    assert romfs.stderr == plain.stderr
    assert "not found" in romfs.stderr and len(romfs.stderr.strip().splitlines()) == 1


def test_help_describes_romfs():
    r = _flash("--help")
    assert r.returncode == 0 and "--romfs" in r.stdout and "ROMFS partition" in r.stdout


# A board that answers `mpremote romfs query`: the real mpremote builds the image, and
# every `mpremote connect ...` is recorded and answered with `query`'s output.
NO_ROMFS = (0, "ROMFS is not enabled on this device\n", "")
NO_PARTITION = (0, "No ROMFS partitions available\n", "")
NOT_FOUND = (1, "", "mpremote: ROMFS0 partition not found on device\n")
SMALL = (0, "ROMFS0 partition has size 4096 bytes (1 blocks of 4096 bytes each)\n", "")
ROOMY = (
    0,
    "ROMFS0 partition has size 131072 bytes (32 blocks of 4096 bytes each)\n"
    "  Raw contents: ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff ...\n"
    "  Not a valid ROMFS\n",
    "",
)
NOT_AT_REPL = (1, "", "mpremote: could not enter raw repl\n")


def _run_with_board(monkeypatch, tmp_path, query, romfs=True):
    flash = _load_flash()
    port = tmp_path / "ttyACM9"
    port.write_text("")
    board_calls = []
    real_run = subprocess.run

    def fake_run(cmd, **kwargs):
        if "connect" not in cmd:
            return real_run(cmd, **kwargs)  # mpy-cross, mpremote romfs build
        board_calls.append(cmd[cmd.index("connect") + 2 :])
        rc, out, err = query if cmd[-2:] == ["romfs", "query"] else (0, "", "")
        return subprocess.CompletedProcess(cmd, rc, out, err)

    monkeypatch.setattr(flash.subprocess, "run", fake_run)
    argv = ["--port", str(port), "--board", "pico", "--build-dir", str(tmp_path / "b")]
    return flash, argv + (["--romfs"] if romfs else []), board_calls


@pytest.mark.parametrize("query", [NO_ROMFS, NO_PARTITION, NOT_FOUND])
def test_romfs_needs_a_romfs_partition(monkeypatch, tmp_path, query):
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, query)
    with pytest.raises(SystemExit) as stop:
        flash.main(argv)
    message = str(stop.value.code)
    assert message.startswith("flash: ") and "\n" not in message
    assert "MicroPython build with ROMFS enabled" in message
    assert "plain `make flash` without ROMFS=1 works on stock firmware" in message
    assert board_calls == [["romfs", "query"]]  # nothing on the board was changed


def test_romfs_image_must_fit_the_partition(monkeypatch, tmp_path):
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, SMALL)
    with pytest.raises(SystemExit) as stop:
        flash.main(argv)
    message = str(stop.value.code)
    assert "holds 4096" in message and "\n" not in message
    assert board_calls == [["romfs", "query"]]


def test_romfs_board_not_at_repl(monkeypatch, tmp_path):
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, NOT_AT_REPL)
    with pytest.raises(SystemExit) as stop:
        flash.main(argv)
    assert "provisioning jumper" in str(stop.value.code)
    assert board_calls == [["romfs", "query"]]


def test_romfs_flash_runs_every_step(monkeypatch, tmp_path):
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, ROOMY)
    assert flash.main(argv) == 0
    assert [call[:2] for call in board_calls] == [
        ["romfs", "query"],
        ["exec", flash.CLEAN],
        ["romfs", "--partition"],
        ["fs", "cp"],
        ["reset"],
    ]
    assert board_calls[2] == ["romfs", "--partition", "0", "deploy", "firmware.romfs"]
    assert board_calls[3] == ["fs", "cp", "main.py", "board_select.py", ":"]


HOLDS_IMAGE = (
    0,
    "ROMFS0 partition has size 131072 bytes (32 blocks of 4096 bytes each)\n"
    "  Raw contents: d2:cd:31:8a:c6:03:80:80:80:80:80:80 ...\n"
    "  ROMFS image size: 58030\n",
    "",
)


@pytest.mark.parametrize("query", [NO_ROMFS, NO_PARTITION, ROOMY])
def test_plain_flash_leaves_a_board_without_an_image_alone(monkeypatch, tmp_path, query):
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, query, romfs=False)
    assert flash.main(argv) == 0
    assert [call[:2] for call in board_calls] == [
        ["romfs", "query"],
        ["exec", flash.CLEAN],
        ["fs", "cp"],
        ["reset"],
    ]


def test_plain_flash_empties_an_image_an_earlier_romfs_flash_left(monkeypatch, tmp_path):
    # otherwise the old firmware in /rom could still be what the board imports
    flash, argv, board_calls = _run_with_board(monkeypatch, tmp_path, HOLDS_IMAGE, romfs=False)
    assert flash.main(argv) == 0
    assert board_calls[1] == ["romfs", "--partition", "0", "deploy", "empty.romfs"]
    assert [call[0] for call in board_calls[2:]] == ["exec", "fs", "reset"]
    empty = tmp_path / "b" / "empty.romfs"
    assert parse_romfs(empty.read_bytes()) == {}
