"""Issue 6's resource budget on the MicroPython VM, for the day of day.py run
with the firmware compiled to .mpy as on a board (mpyimage.py):

- the peak of live heap: firmware/hal/wasi.py runs gc.collect() every
  SAMPLE_EVERY-th idle and reports gc.mem_alloc() when it is a new maximum, in
  a VM heap of RP2040_HEAP bytes (what an RP2040 leaves MicroPython);
- whether the day runs at all in a heap of the target size (MicroPython's own
  collection timing, no sampling): a MemoryError halts the firmware.
"""

import tempfile

from .bench_pump import FirmwareHalted
from .day import therapy_day
from .mpyimage import build_mpy_image

TARGET_HEAP = 32 * 1024
RP2040_HEAP = 192 * 1024
SAMPLE_EVERY = 4  # a collection costs ~4M fuel in this heap, several loop iterations' worth


def budget():
    with tempfile.TemporaryDirectory(prefix="pump-bench-mpy-") as tmp:
        build_mpy_image(tmp)
        sampled = _day(tmp, RP2040_HEAP, SAMPLE_EVERY)
        capped = _day(tmp, TARGET_HEAP, 0)
    return {
        "firmware": ".mpy (mpy-cross, bytecode), main.py as source",
        "sampled_every_idle": SAMPLE_EVERY,
        "peak_live_heap_bytes": sampled.get("vm", {}).get("heap_live_peak"),
        "heap_run": sampled,
        "runs_in_target_heap": capped,
        "target_heap_bytes": TARGET_HEAP,
    }


def _day(firmware_dir, heap_bytes, sample_every):
    """The day in a VM heap of `heap_bytes`; a halt is a result, not an error."""
    try:
        result = therapy_day(
            "micropython",
            firmware_dir=firmware_dir,
            heap_bytes=heap_bytes,
            heap_sample_every=sample_every,
        )
        result["completed"] = True
    except FirmwareHalted as halt:
        result = {"completed": False, "halted": str(halt)}
    result["heap_bytes"] = heap_bytes
    return result
