"""Flash the pump firmware onto a MicroPython board with the official tools.

    .venv/bin/python scripts/flash.py --port /dev/ttyACM0 --board pico [--romfs] [--dry-run]

Compiles every firmware file except main.py with mpy-cross for the board's
architecture into build/flash/<board>/, writes board_select.py (which board
module the device uses), removes the previous firmware from the device (never
the state directory /pumpdata), copies the new one with mpremote and resets.
The board must be at the REPL: a fresh MicroPython, or a pump booted with the
provisioning jumper held (docs/hardware.md).

With --romfs the compiled packages pump/, hal/ and boards/ go into one ROMFS
image (build/flash/<board>/firmware.romfs, made by `mpremote romfs build`)
that `mpremote romfs deploy` writes to the board's ROMFS partition 0, mounted
at /rom: the board runs their bytecode in place from flash instead of loading
it into the heap. main.py and board_select.py still go to the filesystem. This
needs a MicroPython built with ROMFS (MICROPY_VFS_ROM and a ROMFS partition);
the script checks with `mpremote romfs query` before it changes anything.
Without --romfs, a board whose ROMFS partition still holds an image from an
earlier --romfs flash gets an empty image first, so the old firmware in it
cannot shadow the new files.
"""

import argparse
import os
import re
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
# --romfs: the packages are compiled into ROMFS_DIR inside the build directory and
# packed into ROMFS_IMAGE, which goes to partition ROMFS_PARTITION: the one the
# board mounts at /rom at boot.
ROMFS_DIR = "romfs"
ROMFS_IMAGE = "firmware.romfs"
ROMFS_PARTITION = 0
ROMFS_MAGIC = b"\xd2\xcd\x31"
EMPTY_IMAGE = "empty.romfs"

# Runs on the device: delete the previous firmware so no stale .py shadows a new
# .mpy (MicroPython prefers .py), and, with --romfs, so no copy on the filesystem
# shadows /rom (the filesystem root can come before /rom on sys.path). Therapy
# state in /pumpdata is left alone.
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


def build(board, out, romfs=False):
    """Compile the firmware for `board` into `out`; return the files to copy.

    With `romfs` the packages are compiled into out/ROMFS_DIR instead, and only
    main.py and board_select.py are left for the filesystem."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    arch = BOARDS[board]
    packages_out = os.path.join(out, ROMFS_DIR) if romfs else out
    for package in PACKAGES:
        for dirpath, _dirs, files in os.walk(os.path.join(FIRMWARE, package)):
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                src = os.path.join(dirpath, name)
                rel = os.path.relpath(src, FIRMWARE)
                if rel in SKIP:
                    continue
                dst = os.path.join(packages_out, rel[:-3] + ".mpy")
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                cmd = [tool("mpy-cross"), "-march=" + arch, "-s", rel, "-o", dst, src]
                result = subprocess.run(cmd, capture_output=True, text=True)
                if result.returncode:
                    raise SystemExit(f"flash: mpy-cross failed on {rel}: {result.stderr.strip()}")
    shutil.copy(os.path.join(FIRMWARE, "main.py"), os.path.join(out, "main.py"))
    with open(os.path.join(out, "board_select.py"), "w") as f:
        f.write("# Written by scripts/flash.py: the board module this device uses.\n")
        f.write(f"BOARD_MODULE = {board!r}\n")
    if romfs:
        return ["main.py", "board_select.py"]
    return list(PACKAGES) + ["main.py", "board_select.py"]


def build_romfs(out):
    """Pack out/ROMFS_DIR into out/ROMFS_IMAGE; return the command and the image size.

    The directory holds only .mpy files, compiled by build() with the board's
    -march; --no-mpy keeps mpremote from compiling anything itself (it copies
    .mpy files as they are either way)."""
    cmd = [tool("mpremote"), "romfs", "--no-mpy", "--output", ROMFS_IMAGE, "build", ROMFS_DIR]
    result = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
    image = os.path.join(out, ROMFS_IMAGE)
    if result.returncode or not os.path.isfile(image):
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SystemExit(
            f"flash: mpremote romfs build failed: {detail[-1] if detail else 'no output'}"
        )
    with open(image, "rb") as f:
        if f.read(len(ROMFS_MAGIC)) != ROMFS_MAGIC:
            raise SystemExit(f"flash: {image} is not a ROMFS image")
    return cmd, os.path.getsize(image)


def build_empty_romfs(out):
    """An empty ROMFS image (out/EMPTY_IMAGE): deployed by a plain flash over an
    image a previous --romfs flash left, so that image's old firmware cannot
    shadow the new files (/rom can come before the filesystem on sys.path)."""
    empty = os.path.join(out, "empty")
    os.makedirs(empty, exist_ok=True)
    cmd = [tool("mpremote"), "romfs", "--output", EMPTY_IMAGE, "build", "empty"]
    result = subprocess.run(cmd, cwd=out, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit("flash: mpremote romfs build of the empty image failed")


def commands(port, files, romfs=False):
    """The board steps, in order, as (command, only_if_rom_image): a step marked
    True runs only when `romfs query` showed an image in partition ROMFS_PARTITION."""
    mpremote = [tool("mpremote"), "connect", port]
    deploy = mpremote + ["romfs", "--partition", str(ROMFS_PARTITION), "deploy"]
    if not romfs:
        return [
            (mpremote + ["romfs", "query"], False),
            (deploy + [EMPTY_IMAGE], True),
            (mpremote + ["exec", CLEAN], False),
            (mpremote + ["fs", "cp", "-r"] + files + [":"], False),
            (mpremote + ["reset"], False),
        ]
    return [
        (mpremote + ["romfs", "query"], False),
        (mpremote + ["exec", CLEAN], False),
        (deploy + [ROMFS_IMAGE], False),
        (mpremote + ["fs", "cp"] + files + [":"], False),
        (mpremote + ["reset"], False),
    ]


def rom_image_present(output):
    """Whether `mpremote romfs query` output shows a ROMFS image in partition
    ROMFS_PARTITION (mpremote prints "ROMFS image size: N" under it)."""
    ours = False
    for line in output.splitlines():
        header = re.match(r"ROMFS(\d+) partition has size", line)
        if header:
            ours = int(header.group(1)) == ROMFS_PARTITION
        elif ours and line.strip().startswith("ROMFS image size:"):
            return True
    return False


def check_romfs_query(output, image_size):
    """Stop unless `mpremote romfs query` output shows a partition that holds the image."""
    found = re.search(rf"ROMFS{ROMFS_PARTITION} partition has size (\d+) bytes", output)
    if not found:
        raise SystemExit(
            "flash: this board has no ROMFS partition; --romfs (ROMFS=1) needs a "
            "MicroPython build with ROMFS enabled (MICROPY_VFS_ROM and a ROMFS "
            "partition); plain `make flash` without ROMFS=1 works on stock firmware"
        )
    size = int(found.group(1))
    if image_size > size:
        raise SystemExit(
            f"flash: the ROMFS image is {image_size} bytes but the board's ROMFS "
            f"partition holds {size}; build MicroPython with a larger ROMFS partition, "
            "or use plain `make flash` without ROMFS=1"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", help="serial port of the board, e.g. /dev/ttyACM0")
    parser.add_argument("--board", default="pico", help="board module or alias (default pico)")
    parser.add_argument(
        "--dry-run", action="store_true", help="build, print the mpremote commands, run nothing"
    )
    parser.add_argument(
        "--romfs",
        action="store_true",
        help=(
            "put pump/, hal/ and boards/ into a ROMFS image and deploy it to the board's "
            "ROMFS partition (mounted at /rom; bytecode runs in place from flash, "
            "saving heap); main.py and board_select.py still go to the filesystem; "
            "needs a MicroPython built with MICROPY_VFS_ROM and a ROMFS partition"
        ),
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
    files = build(board, out, romfs=args.romfs)
    print(f"flash: {board} compiled with mpy-cross -march={BOARDS[board]} into {out}")
    image_size = 0
    if args.romfs:
        build_cmd, image_size = build_romfs(out)
        print(f"flash: ROMFS image {ROMFS_IMAGE}, {image_size} bytes: {shlex.join(build_cmd)}")
    else:
        build_empty_romfs(out)
    rom_image = False
    for cmd, only_if_rom_image in commands(args.port, files, romfs=args.romfs):
        if args.dry_run:
            note = "# only if the board's ROMFS partition holds an image: "
            print((note if only_if_rom_image else "") + shlex.join(cmd), flush=True)
            continue
        if only_if_rom_image and not rom_image:
            continue
        print(shlex.join(cmd), flush=True)
        query = cmd[-2:] == ["romfs", "query"]
        result = subprocess.run(cmd, cwd=out, capture_output=query, text=query)
        if query:
            print(result.stdout, end="", flush=True)
            rom_image = rom_image_present(result.stdout)
            if args.romfs and (result.returncode == 0 or "partition not found" in result.stderr):
                check_romfs_query(result.stdout, image_size)
            print(result.stderr, end="", file=sys.stderr, flush=True)
        if result.returncode:
            raise SystemExit(
                "flash: mpremote failed; if the pump firmware is running, hold the "
                "provisioning jumper, reset the board and try again"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
