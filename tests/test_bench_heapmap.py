"""benchmarks/heapmap.py: the heap the firmware's imports take on the MicroPython
VM, by kind of object, adds up to the total the VM itself reports."""

from pumpsim.benchmarks.heapmap import import_breakdown
from pumpsim.romfs import build_romfs_image


def test_the_kinds_add_up_to_what_gc_reports(tmp_path):
    image = tmp_path / "firmware.romfs"
    build_romfs_image(image)
    found = import_breakdown(image)
    assert found["heap_bytes"] > 0
    assert sum(found["by_kind_bytes"].values()) == found["heap_bytes"]
    # the firmware defines functions and interns names; the pools hold the names
    assert found["by_kind_bytes"]["function objects"] > 0
    assert found["interned_names"] > 100 and found["name_pool_bytes"] > 0
