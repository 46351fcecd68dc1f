"""Print the pinned requirements of one optional extra in pyproject.toml, one per line.

The Makefile uses this to install the MicroPython stub extras into their own folders
(`pip install --target .stubs/NAME ...`), so that every version stays pinned in
pyproject.toml alone.

    python scripts/extra_requirements.py stubs-rp2
"""

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} EXTRA", file=sys.stderr)
        return 2
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    name = argv[1]
    if name not in extras:
        print(f"{PYPROJECT}: no optional extra {name!r} (have: {', '.join(extras)})",
              file=sys.stderr)
        return 1
    for requirement in extras[name]:
        print(requirement)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
