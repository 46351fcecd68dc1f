"""Issue 6's resource budget on the MicroPython VM, for the day of day.py, with
the firmware deployed the two ways a board can hold it:

- `romfs`: one ROMFS image (pumpsim/romfs.py), mapped outside the heap as a
  board's ROMFS partition is memory-mapped flash, so bytecode and constant
  strings are used in place. This is the deployment the budget is for (frozen
  modules in a custom firmware build keep even less in RAM);
- `mpy_files`: .mpy files copied to the filesystem (mpyimage.py), which
  MicroPython loads into the heap, bytecode and all.

For each, the peak of live heap: firmware/hal/wasi.py runs gc.collect() every
SAMPLE_EVERY-th idle and reports gc.mem_alloc() when it is a new maximum, in a
VM heap of RP2040_HEAP bytes (what an RP2040 leaves MicroPython). Then whether
the day runs at all in a heap of the target size, from the ROMFS image and
without sampling: a MemoryError halts the firmware. And what the imports alone
put on the heap, by kind of object (heapmap.py).
"""

import tempfile
from pathlib import Path

from ..romfs import build_romfs_image
from .bench_pump import FirmwareHalted
from .day import therapy_day
from .heapmap import import_breakdown
from .mpyimage import build_mpy_image

TARGET_HEAP = 32 * 1024
RP2040_HEAP = 192 * 1024
SAMPLE_EVERY = 4  # a collection costs several loop iterations' worth of fuel


def budget():
    with tempfile.TemporaryDirectory(prefix="pump-bench-mpy-") as tmp:
        image = Path(tmp) / "firmware.romfs"
        image_bytes = build_romfs_image(image)
        breakdown = import_breakdown(image)
        romfs = _day(RP2040_HEAP, SAMPLE_EVERY, romfs_image=image)
        capped = _day(TARGET_HEAP, 0, romfs_image=image)
        mpy_dir = Path(tmp) / "mpy"
        build_mpy_image(mpy_dir)
        mpy_files = _day(RP2040_HEAP, SAMPLE_EVERY, firmware_dir=mpy_dir)
    return {
        "sampled_every_idle": SAMPLE_EVERY,
        "peak_live_heap_bytes": _peak(romfs),
        "romfs_image_bytes": image_bytes,
        "heap_run": romfs,
        "import_breakdown": breakdown,
        "peak_live_heap_mpy_files_bytes": _peak(mpy_files),
        "heap_run_mpy_files": mpy_files,
        "runs_in_target_heap": capped,
        "target_heap_bytes": TARGET_HEAP,
    }


def _peak(result):
    return result.get("vm", {}).get("heap_live_peak")


def _day(heap_bytes, sample_every, **deployment):
    """The day in a VM heap of `heap_bytes`; a halt is a result, not an error."""
    try:
        result = therapy_day(
            "micropython", heap_bytes=heap_bytes, heap_sample_every=sample_every, **deployment
        )
        result["completed"] = True
    except FirmwareHalted as halt:
        result = {"completed": False, "halted": str(halt)}
    result["heap_bytes"] = heap_bytes
    return result
