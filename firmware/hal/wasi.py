# HAL (docs/hal.md) for the MicroPython VM on the desktop: the WASI build of
# MicroPython that `pump-sim --runtime micropython` runs under wasmtime. That VM
# has no peripherals, so every member of the contract is forwarded to the
# simulator's SimHAL through the embedding's `host.call(name, payload)` bridge;
# sim/pumpsim/halbridge.py is the other end.
#
# Wire format, both ways JSON: the payload is the list of arguments; the reply
# is a one-element list holding the result, or {"exc": name, "args": [...]} when
# the SimHAL method raised an ordinary exception, re-raised here so the firmware
# sees what it would see under CPython. JSON has no bytes, so bytes cross as hex
# strings. A power cut never comes back as a reply: the host aborts the whole VM
# inside the call, as a real MCU stops at whatever instruction it was on.
import binascii
import gc
import json
import micropython

import host  # pyright: ignore[reportMissingImports]  (built into the WASI VM only)

# Exceptions a SimHAL call can raise that the firmware may handle (the same list
# as sim/pumpsim/halbridge.py); anything else reaches the firmware as
# RuntimeError, which it treats as a crash.
_EXCEPTIONS = {"OSError": OSError, "ValueError": ValueError, "TypeError": TypeError}


def _call(name, payload):
    reply = json.loads(host.call(name, payload))
    if isinstance(reply, dict) and "parts" in reply:
        # Too long for the bridge's result buffer (sim/pumpsim/mpvm.py): it
        # comes in parts, joined here and parsed once whole.
        reply = json.loads("".join([host.call("part", "[]") for _ in range(reply["parts"])]))
    if isinstance(reply, dict):
        raise _EXCEPTIONS.get(reply["exc"], RuntimeError)(*reply["args"])
    return reply[0]


def _hex(data):
    if isinstance(data, str):
        data = data.encode()
    return binascii.hexlify(data).decode()


def _bytes(text):
    return binascii.unhexlify(text) if text else b""


# micropython.mem_total() is a running count of bytes allocated, kept in a C
# size_t: differences are taken modulo 2**32.
_MEM_TOTAL_MASK = 0xFFFFFFFF


def _allocated():
    # MICROPY_MEM_STATS is on in the WASI build, off in board builds (and stubs)
    return micropython.mem_total()  # pyright: ignore[reportAttributeAccessIssue]


class WasiHal:
    def __init__(self, heap_sample_every=0):
        # Identity never changes while the board runs: fetch it once.
        ident = _call("identity", "[]")
        self.board = ident["board"]
        self.mechanics = ident["mechanics"]
        self.caps = tuple(ident["caps"])
        # Resource bench (docs/bench.md): every Nth idle, the live heap. 0: off,
        # so ordinary runs keep the collection timing of idle().
        self._heap_every = heap_sample_every
        self._heap_countdown = 1  # the first idle after boot: imports done
        self._heap_peak = 0
        self._collected()

    # identity
    def reset_cause(self):
        return _call("reset_cause", "[]")

    # time
    def ticks_ms(self):
        return _call("ticks_ms", "[]")

    def ticks_us(self):
        return _call("ticks_us", "[]")

    def ticks_diff(self, a, b):
        return _call("ticks_diff", json.dumps((a, b)))

    def ticks_add(self, t, d):
        return _call("ticks_add", json.dumps((t, d)))

    def rtc_s(self):
        return _call("rtc_s", "[]")

    def set_rtc_s(self, s):
        _call("set_rtc_s", json.dumps((s,)))

    # step generator
    def step_queue(self, start_us, count, interval_us):
        return _call("step_queue", json.dumps((start_us, count, interval_us)))

    def step_pending(self):
        return _call("step_pending", "[]")

    def step_count(self):
        return _call("step_count", "[]")

    def step_stop(self):
        _call("step_stop", "[]")

    def driver_enable(self, on):
        _call("driver_enable", json.dumps((bool(on),)))

    # serial line
    def serial_read(self):
        return _bytes(_call("serial_read", "[]"))

    def serial_write(self, data):
        _call("serial_write", json.dumps((_hex(data),)))

    # waiting
    def idle(self, timeout_ms):
        # Automatic collection is off in this VM (see sim/pumpsim/mpvm.py): its
        # collector misses pointers held in WebAssembly locals. Here, between
        # loop iterations, nothing lives only in a local, so this is where the
        # heap is collected: once the loop has allocated half of what the last
        # collection left free, so the next iteration (a page of event-log
        # export makes hundreds of kB) has the other half. The running total
        # costs nothing to read, where asking the heap how full it is would walk
        # its whole allocation table.
        since = (_allocated() - self._gc_mark) & _MEM_TOTAL_MASK
        if since > self._gc_allowance:
            gc.collect()
            self._collected()
        if self._heap_every:
            self._sample_heap()
        _call("idle", json.dumps((timeout_ms,)))

    def _collected(self):
        self._gc_mark = _allocated()
        self._gc_allowance = gc.mem_free() // 2

    def _sample_heap(self):
        # At idle the control loop's temporaries are dead: what survives a
        # collection is the firmware's standing state (modules, bytecode,
        # therapy state, buffers). Only a new peak crosses to the host.
        self._heap_countdown -= 1
        if self._heap_countdown > 0:
            return
        self._heap_countdown = self._heap_every
        gc.collect()
        self._collected()
        live = gc.mem_alloc()
        if live > self._heap_peak:
            self._heap_peak = live
            _call("heap", json.dumps((live, live + gc.mem_free())))

    # persistent storage
    def fs_read(self, name):
        data = _call("fs_read", json.dumps((name,)))
        return None if data is None else _bytes(data)

    def fs_write(self, name, data):
        _call("fs_write", json.dumps((name, _hex(data))))

    def fs_append(self, name, data):
        _call("fs_append", json.dumps((name, _hex(data))))

    def fs_rename(self, src, dst):
        _call("fs_rename", json.dumps((src, dst)))

    def fs_remove(self, name):
        _call("fs_remove", json.dumps((name,)))

    # watchdog and inputs
    def wdt_feed(self):
        _call("wdt_feed", "[]")

    def needle_present(self):
        return _call("needle_present", "[]")

    def stalled(self):
        return _call("stalled", "[]")

    def provision_gate(self):
        return _call("provision_gate", "[]")


def make_hal(heap_sample_every=0):
    return WasiHal(heap_sample_every)
