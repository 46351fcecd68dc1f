"""The firmware as a board with a ROMFS partition holds it: one image built by
MicroPython's own tool (`mpremote romfs build`, which compiles every .py with
mpy-cross), main.py included. On the MicroPython VM the image is mapped
outside the heap (sim/pumpsim/mpvm.py), so the heap holds what such a board's
heap holds: the firmware's objects, not its bytecode."""

import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from ..runtime import DEFAULT_FIRMWARE_DIR

MPREMOTE = Path(sysconfig.get_path("scripts")) / "mpremote"
CONTENTS = ("main.py", "pump", "hal", "boards")


def build_romfs_image(dest, firmware_dir=DEFAULT_FIRMWARE_DIR):
    """Write the image of `firmware_dir` to the file `dest`; returns its size."""
    firmware_dir = Path(firmware_dir)
    with tempfile.TemporaryDirectory(prefix="pump-romfs-") as tmp:
        for name in CONTENTS:
            src = firmware_dir / name
            if src.is_dir():
                shutil.copytree(src, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, tmp)
        subprocess.run(
            [str(MPREMOTE), "romfs", "--output", str(dest), "build", tmp],
            check=True,
            capture_output=True,
        )
    return Path(dest).stat().st_size
