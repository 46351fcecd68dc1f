"""Firmware checks that need no board; `make check` runs them.

1. `mpy-cross` compiles every .py file under firmware/ (every failure is reported).
2. No file under firmware/pump/ imports a hardware module (machine, rp2, esp32, ...).
3. pyrightconfig.firmware.json gives every other file that imports a port-only module
   (rp2, esp32, esp) an execution environment with that port's stubs, so pyright checks
   it against the right board. Files that import only `machine` may stay portable.

tests/test_firmware_compiles.py runs checks 1 and 2 under pytest through the functions
below. Exit status 0 when everything passes, 1 otherwise.

    .venv/bin/python scripts/check_firmware.py
"""

import ast
import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
PORTABLE_CORE = FIRMWARE / "pump"
FIRMWARE_PYRIGHT_CONFIG = ROOT / "pyrightconfig.firmware.json"
# The console script installed by the mpy-cross package, beside this interpreter.
MPY_CROSS = Path(sysconfig.get_path("scripts")) / "mpy-cross"
# Modules that exist only on a board; the portable core reaches hardware through the HAL.
COMMON_HARDWARE_MODULES = frozenset({"machine", "umachine"})
PORT_MODULES = {"rp2": frozenset({"rp2"}), "esp32": frozenset({"esp32", "esp"})}
HARDWARE_MODULES = COMMON_HARDWARE_MODULES.union(*PORT_MODULES.values())


def firmware_files() -> list[Path]:
    """Every Python file that would be copied to a board, in a stable order."""
    return sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)


def compile_error(source: Path, out_dir: Path) -> str | None:
    """Compile one file with mpy-cross; return its error message, or None on success."""
    relative = source.relative_to(FIRMWARE)
    output = out_dir / relative.with_suffix(".mpy")
    output.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(MPY_CROSS), "-s", str(relative), "-o", str(output), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return None
    return (result.stderr + result.stdout).strip() or f"mpy-cross exit code {result.returncode}"


def _imported_modules(source: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in `source`; [] if it does not parse."""
    try:
        tree = ast.parse(source.read_text(), filename=str(source))
    except SyntaxError:
        return []  # compile_error() reports it
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def hardware_imports(source: Path) -> list[str]:
    """`file:line: imports NAME` for each hardware module that `source` imports."""
    return [
        f"{source.relative_to(ROOT)}:{line}: imports {name}"
        for line, name in _imported_modules(source)
        if name.split(".")[0] in HARDWARE_MODULES
    ]


def _pyright_port_roots() -> dict[Path, str]:
    """Execution-environment root -> the port whose stubs it uses, from the pyright config."""
    lines = FIRMWARE_PYRIGHT_CONFIG.read_text().splitlines()
    # The config is JSON with whole-line // comments, as pyright allows.
    config = json.loads("\n".join(ln for ln in lines if not ln.lstrip().startswith("//")))
    roots = {}
    for env in config.get("executionEnvironments", []):
        root = (ROOT / env["root"]).resolve()
        if root == FIRMWARE.resolve():
            continue  # the portable default
        for port in PORT_MODULES:
            if f".stubs/{port}" in env.get("extraPaths", []):
                roots[root] = port
    return roots


def misconfigured_hardware_files() -> list[str]:
    """Files that import a port's modules but are not type-checked against that port's stubs."""
    roots = _pyright_port_roots()
    problems = []
    for source in firmware_files():
        if PORTABLE_CORE in source.parents:
            continue  # hardware_imports() rejects every hardware import there
        modules = {name.split(".")[0] for _, name in _imported_modules(source)}
        modules &= HARDWARE_MODULES
        if not modules:
            continue
        port = roots.get(source.resolve())
        if port is None and modules <= COMMON_HARDWARE_MODULES:
            continue  # shared by both ports; the portable environment uses the Pico's stubs
        if port is None:
            problems.append(
                f"{source.relative_to(ROOT)}: imports {', '.join(sorted(modules))}; give it an "
                f"executionEnvironments entry with its port's stubs in "
                f"{FIRMWARE_PYRIGHT_CONFIG.name}"
            )
        elif not modules <= COMMON_HARDWARE_MODULES | PORT_MODULES[port]:
            problems.append(
                f"{source.relative_to(ROOT)}: imports {', '.join(sorted(modules))} but "
                f"{FIRMWARE_PYRIGHT_CONFIG.name} checks it against the {port} stubs"
            )
    return problems


def main() -> int:
    files = firmware_files()
    if not files:
        print(f"error: no .py files under {FIRMWARE}", file=sys.stderr)
        return 1
    failures = 0
    with tempfile.TemporaryDirectory(prefix="mpy-") as out:
        for source in files:
            error = compile_error(source, Path(out))
            if error is not None:
                failures += 1
                print(f"mpy-cross FAILED {source.relative_to(ROOT)}:\n  {error}")
        compiled_bytes = sum(p.stat().st_size for p in Path(out).rglob("*.mpy"))
    print(f"mpy-cross: {len(files) - failures} of {len(files)} firmware files compiled "
          f"({compiled_bytes} bytes of .mpy)")

    for source in files:
        if PORTABLE_CORE in source.parents:
            for line in hardware_imports(source):
                failures += 1
                print(f"{line}: firmware/pump/ must reach hardware only through the HAL")

    for problem in misconfigured_hardware_files():
        failures += 1
        print(problem)

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
