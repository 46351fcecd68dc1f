"""The host end of firmware/hal/wasi.py: one guest `host.call(name, payload)`
becomes one SimHAL call.

Wire format (JSON both ways, see firmware/hal/wasi.py): the payload is the list
of arguments; the reply is `[result]`, or `{"exc": name, "args": [...]}` when
SimHAL raised an ordinary exception. Bytes cross as hex. PowerLoss and
SimulatorShutdown are BaseExceptions and pass through untouched: the embedding
lets them abort the VM.
"""

import json

# Every method of docs/hal.md; `identity` carries the three attributes.
METHODS = frozenset(
    {
        "reset_cause",
        "ticks_ms",
        "ticks_us",
        "ticks_diff",
        "ticks_add",
        "rtc_s",
        "set_rtc_s",
        "step_queue",
        "step_pending",
        "step_count",
        "step_stop",
        "driver_enable",
        "serial_read",
        "serial_write",
        "idle",
        "fs_read",
        "fs_write",
        "fs_append",
        "fs_rename",
        "fs_remove",
        "wdt_feed",
        "needle_present",
        "stalled",
        "provision_gate",
    }
)
# Exceptions the guest re-raises as themselves (firmware/hal/wasi.py has the
# same list); a subclass crosses as its nearest listed base, e.g.
# FileNotFoundError as OSError, as MicroPython has no subclasses of OSError.
CROSSING_EXCEPTIONS = ("OSError", "ValueError", "TypeError")
# Which arguments are bytes (hex on the wire), and which results are.
_BYTES_ARGS = {"serial_write": 0, "fs_write": 1, "fs_append": 1}
_BYTES_RESULTS = frozenset({"serial_read", "fs_read"})


class HalBridge:
    def __init__(self, hal):
        self.hal = hal

    def call(self, name, payload):
        """Answer one guest request; returns the reply text."""
        args = json.loads(payload)
        if name == "identity":
            hal = self.hal
            value = {"board": hal.board, "mechanics": hal.mechanics, "caps": list(hal.caps)}
            return json.dumps([value])
        if name not in METHODS:
            return _exception_reply(AttributeError(f"HAL has no method {name!r}"))
        if name in _BYTES_ARGS:
            i = _BYTES_ARGS[name]
            args[i] = bytes.fromhex(args[i])
        try:
            value = getattr(self.hal, name)(*args)
        except Exception as exc:  # the firmware sees it, as under CPython
            return _exception_reply(exc)
        if name in _BYTES_RESULTS and value is not None:
            value = value.hex()
        return json.dumps([value])


def _exception_reply(exc):
    names = (cls.__name__ for cls in type(exc).__mro__)
    name = next((n for n in names if n in CROSSING_EXCEPTIONS), type(exc).__name__)
    args = [a for a in exc.args if isinstance(a, int | str)]
    return json.dumps({"exc": name, "args": args})
