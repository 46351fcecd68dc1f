"""The firmware as a board holds it: every module compiled with mpy-cross
(bytecode only, which every port loads), main.py left as source as
scripts/flash.py leaves it. The MicroPython VM then loads bytecode instead of
compiling source at boot, so its heap holds what a board's heap holds, not the
compiler's working memory."""

import shutil
import subprocess
import sysconfig
from pathlib import Path

from ..runtime import DEFAULT_FIRMWARE_DIR

MPY_CROSS = Path(sysconfig.get_path("scripts")) / "mpy-cross"
PACKAGES = ("pump", "hal", "boards")


def build_mpy_image(dest, firmware_dir=DEFAULT_FIRMWARE_DIR):
    """Compile `firmware_dir` into `dest`."""
    firmware_dir, dest = Path(firmware_dir), Path(dest)
    for package in PACKAGES:
        for src in sorted((firmware_dir / package).rglob("*.py")):
            rel = src.relative_to(firmware_dir)
            out = dest / rel.with_suffix(".mpy")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(MPY_CROSS), "-s", str(rel), "-o", str(out), str(src)],
                check=True,
                capture_output=True,
            )
    shutil.copy(firmware_dir / "main.py", dest / "main.py")
