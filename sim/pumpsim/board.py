"""Read the simulator board's mechanics from the firmware tree.

The board file and the mechanics validator are loaded from the firmware
directory under private module names, so the plant is built from exactly the
configuration the firmware uses, without importing the firmware as a package.
"""

import importlib.util
from pathlib import Path


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def board_mechanics(firmware_dir, board="sim"):
    """The `MECHANICS` dict of `boards/<board>.py`, as the board file states it."""
    board_file = Path(firmware_dir) / "boards" / f"{board}.py"
    if not board_file.is_file():
        raise FileNotFoundError(f"no board file {board_file}")
    return dict(_load(board_file, "_pumpsim_board_" + board).MECHANICS)


def resolve_mechanics(firmware_dir, raw):
    """`raw` validated and completed by the firmware's own `pump.mechanics.resolve`
    (raises ValueError if invalid)."""
    mechanics = _load(Path(firmware_dir) / "pump" / "mechanics.py", "_pumpsim_mechanics")
    return mechanics.resolve(raw)


def load_mechanics(firmware_dir, board="sim"):
    """Validated, complete mechanics of `boards/<board>.py`."""
    return resolve_mechanics(firmware_dir, board_mechanics(firmware_dir, board))
