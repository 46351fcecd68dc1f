"""Every firmware file compiles with mpy-cross, and the portable core stays hardware-free.

The same checks run in `make check` through scripts/check_firmware.py; this test keeps them
in `make test` and plain `pytest` too.
"""

import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_firmware.py"
_spec = importlib.util.spec_from_file_location("check_firmware", _SCRIPT)
assert _spec is not None and _spec.loader is not None
check_firmware = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_firmware)

FIRMWARE_FILES = check_firmware.firmware_files()
PORTABLE_FILES = [p for p in FIRMWARE_FILES if check_firmware.PORTABLE_CORE in p.parents]


def _name(path: Path) -> str:
    return str(path.relative_to(check_firmware.FIRMWARE))


def test_firmware_and_portable_core_exist() -> None:
    assert FIRMWARE_FILES, f"no .py files under {check_firmware.FIRMWARE}"
    assert PORTABLE_FILES, f"no .py files under {check_firmware.PORTABLE_CORE}"


@pytest.mark.parametrize("source", FIRMWARE_FILES, ids=_name)
def test_mpy_cross_compiles(source: Path, tmp_path: Path) -> None:
    error = check_firmware.compile_error(source, tmp_path)
    assert error is None, f"mpy-cross rejects {_name(source)}:\n{error}"


@pytest.mark.parametrize("source", PORTABLE_FILES, ids=_name)
def test_portable_core_imports_no_hardware_module(source: Path) -> None:
    assert check_firmware.hardware_imports(source) == []
