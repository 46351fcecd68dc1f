"""Runtimes: how the firmware files are executed against the SimHAL.

The simulator only needs `load()` (once, at start: fail early on a broken
firmware directory) and `run(hal)` (once per boot; returns or raises when the
MCU stops), and `stats()` for the rig's `mcu` command. The CPython runtime
imports the files directly; the MicroPython runtime (mpvm.py) runs them on the
MicroPython VM and forwards HAL calls over a bridge.
"""

import importlib
import sys
from pathlib import Path

from .mpvm import MicroPythonRuntime

DEFAULT_FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"


class CPythonRuntime:
    name = "cpython"

    def __init__(self, firmware_dir):
        self.firmware_dir = Path(firmware_dir).resolve()
        self._main = None

    def load(self):
        if not (self.firmware_dir / "main.py").is_file():
            raise FileNotFoundError(f"no main.py in firmware directory {self.firmware_dir}")
        _forget_foreign_modules(self.firmware_dir)
        path = str(self.firmware_dir)
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)  # first, so no other main.py or pump/ shadows ours
        main = importlib.import_module("main")
        if not hasattr(main, "run"):
            raise ImportError(f"{self.firmware_dir}/main.py has no run(hal)")
        self._main = main

    def run(self, hal):
        # The firmware keeps no module-level mutable state, so a reboot is
        # simply a fresh call into the already imported modules.
        if self._main is None:
            raise RuntimeError("runtime not loaded")
        self._main.run(hal)

    def stats(self):
        return {"runtime": self.name}


RUNTIMES = {"cpython": CPythonRuntime, "micropython": MicroPythonRuntime}


def make_runtime(name, firmware_dir):
    try:
        cls = RUNTIMES[name]
    except KeyError:
        raise ValueError(f"unknown runtime {name!r} (have: {', '.join(RUNTIMES)})") from None
    return cls(firmware_dir)


def _top_level_names(directory):
    for entry in directory.iterdir():
        if entry.suffix == ".py":
            yield entry.stem
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            yield entry.name


def _forget_foreign_modules(directory):
    """Firmware modules have board-style top-level names (`main`, `pump`, ...).
    Drop any already imported under those names from another directory, so
    several firmware trees can be loaded one after another in one process."""
    for top in set(_top_level_names(directory)):
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            origin = getattr(sys.modules[name], "__file__", None)
            if origin is None or not Path(origin).resolve().is_relative_to(directory):
                del sys.modules[name]
