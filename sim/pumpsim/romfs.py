"""The firmware as a board with a ROMFS partition holds it: one image built by
MicroPython's own tool (`mpremote romfs build`, which compiles every .py with
mpy-cross), main.py included. On the MicroPython VM the image is mapped
outside the heap (mpvm.py), so the heap holds what such a board's heap holds:
the firmware's objects, not its bytecode. `Simulator(romfs=True)` and
`pump-sim --romfs` run from one; so does the resource bench (benchmarks/vmbudget.py).
"""

import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from .runtime import DEFAULT_FIRMWARE_DIR

MPREMOTE = Path(sysconfig.get_path("scripts")) / "mpremote"
CONTENTS = ("main.py", "pump", "hal", "boards")


class RomfsBuildError(ImportError):
    """A firmware file does not compile (mpy-cross's message says which)."""


def build_romfs_image(dest, firmware_dir=DEFAULT_FIRMWARE_DIR):
    """Write the image of `firmware_dir` (those of CONTENTS it has) to the file
    `dest`; returns its size."""
    firmware_dir = Path(firmware_dir)
    with tempfile.TemporaryDirectory(prefix="pump-romfs-") as tmp:
        for name in CONTENTS:
            src = firmware_dir / name
            if src.is_dir():
                shutil.copytree(src, Path(tmp) / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.is_file():
                shutil.copy(src, tmp)
        try:
            # Built from inside the copy, so the bytecode names its source
            # "./pump/app.py" (what a VM traceback shows), not the copy's path.
            subprocess.run(
                [str(MPREMOTE), "romfs", "--output", str(Path(dest).resolve()), "build", "."],
                check=True,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
        except subprocess.CalledProcessError as exc:
            raise RomfsBuildError(
                f"cannot build a ROMFS image of {firmware_dir}: "
                + _reason(exc.stderr, tmp, firmware_dir)
            ) from None
    return Path(dest).stat().st_size


def _reason(stderr, tmp, firmware_dir):
    """mpy-cross's message on one line, naming the firmware's own files; not
    mpremote's own follow-up ("Error: OSError ... .mpy")."""
    named = stderr.replace(tmp, str(firmware_dir)).replace('"./', f'"{firmware_dir}/')
    lines = [line.strip() for line in named.splitlines()]
    lines = [line for line in lines if line and not line.startswith("Traceback")]
    cause = [line for line in lines if not line.startswith("Error:")]
    return " ".join(cause or lines) or "mpremote romfs build failed"
