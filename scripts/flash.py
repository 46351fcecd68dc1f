"""Flash the pump firmware onto a MicroPython board with the official tools.

    .venv/bin/python scripts/flash.py --port /dev/ttyACM0 --board pico [--dry-run]

Compiles every firmware file except main.py with mpy-cross for the board's
architecture into build/flash/<board>/, writes board_select.py (which board
module the device uses), removes the previous firmware from the device (never
the state directory /pumpdata), copies the new one with mpremote and resets.
The board must be at the REPL: a fresh MicroPython, or a pump booted with the
provisioning jumper held (docs/hardware.md).
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BIN = os.path.dirname(os.path.abspath(sys.executable))

# board module -> mpy-cross architecture
BOARDS = {
    "pico_drv8825": "armv6m",
    "pico_a4988": "armv6m",
    "pico_tmc2209": "armv6m",
    "esp32_devkit": "xtensawin",
}
ALIASES = {
    "pico": "pico_drv8825",
    "pico-drv8825": "pico_drv8825",
    "pico-a4988": "pico_a4988",
    "pico-tmc2209": "pico_tmc2209",
    "esp32": "esp32_devkit",
    "esp32-devkit": "esp32_devkit",
}
# Firmware packages copied to the device root; the simulator's board stays behind.
PACKAGES = ("pump", "hal", "boards")
SKIP = ("boards/sim.py",)

# Runs on the device: delete the previous firmware so no stale .py shadows a new
# .mpy (MicroPython prefers .py). Therapy state in /pumpdata is left alone.
CLEAN = """import os
def rm(p):
    try:
        mode = os.stat(p)[0]
    except OSError:
        return
    if mode & 0x4000:
        for n in os.listdir(p):
            rm(p + '/' + n)
        os.rmdir(p)
    else:
        os.remove(p)
for p in ('/pump', '/hal', '/boards', '/main.py', '/board_select.py'):
    rm(p)
"""


def tool(name):
    path = os.path.join(BIN, name)
    return path if os.path.exists(path) else name


def resolve_board(name):
    name = ALIASES.get(name, name)
    if name not in BOARDS:
        known = ", ".join(sorted(set(BOARDS) | set(ALIASES)))
        raise SystemExit(f"flash: unknown board {name!r} (known: {known})")
    return name


def build(board, out):
    """Compile the firmware for `board` into `out`; return the files to copy."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    arch = BOARDS[board]
    for package in PACKAGES:
        for dirpath, _dirs, files in os.walk(os.path.join(FIRMWARE, package)):
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, FIRMWARE)
                if rel in SKIP:
                    continue
                dst = os.path.join(out, rel[:-3] + ".mpy")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                cmd = [tool("mpy-cross"), "-march=" + arch, "-s", rel, "-o", dst, src]
                result = subprocess.run(cmd, capture_output=True, text=True)
                if result.returncode:
                    raise SystemExit(f"flash: mpy-cross failed on {rel}: {result.stderr.strip()}")
    shutil.copy(os.path.join(FIRMWARE, "main.py"), os.path.join(out, "main.py"))
    with open(os.path.join(out, "board_select.py"), "w") as f:
        f.write("# Written by scripts/flash.py: the board module this device uses.\n")
        f.write(f"BOARD_MODULE = {board!r}\n")
    return list(PACKAGES) + ["main.py", "board_select.py"]


def commands(port, files):
    mpremote = [tool("mpremote"), "connect", port]
    return [
        mpremote + ["exec", CLEAN],
        mpremote + ["fs", "cp", "-r"] + files + [":"],
        mpremote + ["reset"],
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", help="serial port of the board, e.g. /dev/ttyACM0")
    parser.add_argument("--board", default="pico", help="board module or alias (default pico)")
    parser.add_argument(
        "--dry-run", action="store_true", help="build, print the mpremote commands, run nothing"
    )
    parser.add_argument("--build-dir", default=None)
    args = parser.parse_args(argv)
    board = resolve_board(args.board)
    if not args.port:
        raise SystemExit("flash: no port given (e.g. make flash PORT=/dev/ttyACM0)")
    if not args.dry_run and not os.path.exists(args.port):
        raise SystemExit(f"flash: port {args.port} not found (is the board plugged in?)")
    if not os.path.exists(os.path.join(FIRMWARE, "main.py")):
        raise SystemExit("flash: firmware/main.py is missing")
    out = args.build_dir or os.path.join(ROOT, "build", "flash", board)
    files = build(board, out)
    print(f"flash: {board} compiled with mpy-cross -march={BOARDS[board]} into {out}")
    for cmd in commands(args.port, files):
        print(shlex.join(cmd), flush=True)
        if args.dry_run:
            continue
        if subprocess.run(cmd, cwd=out).returncode:
            raise SystemExit(
                "flash: mpremote failed; if the pump firmware is running, hold the "
                "provisioning jumper, reset the board and try again"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
