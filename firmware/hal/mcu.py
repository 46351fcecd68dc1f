# The parts of a board HAL (docs/hal.md) that are the same on every MicroPython
# microcontroller: board selection, time, RTC, console serial line, littlefs
# storage, watchdog, reset cause and the optional inputs. Board drivers
# (hal/rp2040.py, hal/esp32.py) add the step generator and idle().
import machine
import micropython
import os
import select
import sys
import time

# The watchdog bites this long after the last feed. The RP2040 hardware allows
# at most 8388 ms; the control loop feeds it every iteration.
WDT_TIMEOUT_MS = 5000
WDT_SLICE_MS = 1000

# Persistent records live here, apart from the firmware packages (/pump is the
# core's code), so reflashing the firmware never touches therapy state.
STATE_DIR = "/pumpdata"

# time.time() counts from 2000-01-01 on some ports; the HAL speaks Unix seconds.
_EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0

_RX_CHUNK = 128

_RESET_CAUSES = (
    ("PWRON_RESET", "power_on"),
    ("WDT_RESET", "watchdog"),
    ("SOFT_RESET", "soft"),
    ("BROWNOUT_RESET", "brownout"),
)


def load_board(default):
    """The board module named by /board_select.py (written by scripts/flash.py),
    or `default` when the device was flashed without one."""
    try:
        import board_select  # pyright: ignore[reportMissingImports]  (written at flash time)

        name = board_select.BOARD_MODULE
    except ImportError:
        name = default
    full = "boards." + name
    __import__(full)
    return sys.modules[full]


def _pin_out(number, level):
    return machine.Pin(number, machine.Pin.OUT, value=level)


def _pin_in(number):
    return machine.Pin(number, machine.Pin.IN, machine.Pin.PULL_UP)


class McuHal:
    def __init__(self, board):
        self.board = board.BOARD
        self.mechanics = board.MECHANICS
        pins = board.PINS
        active = board.ACTIVE
        driver = board.DRIVER
        self.ticks_ms = time.ticks_ms
        self.ticks_us = time.ticks_us
        self.ticks_diff = time.ticks_diff
        self.ticks_add = time.ticks_add

        # Outputs first, so the driver stays disabled from the earliest moment.
        self._en_on = driver["enable_active"]
        self._enable = _pin_out(pins["enable"], 1 - self._en_on)
        self._wake_us = driver["wake_us"]
        self.ready_at = time.ticks_us()
        # The contract has no reverse: DIR is held at the forward level for good,
        # which also satisfies the driver's DIR-to-STEP setup time once and for all.
        _pin_out(pins["dir"], active["dir_forward"])
        micro = board.MECHANICS["microsteps"]
        if micro not in driver["ms_levels"]:
            raise ValueError("%s cannot do 1/%d microstep" % (driver["name"], micro))
        levels = driver["ms_levels"][micro]
        for i in range(len(levels)):
            _pin_out(pins["ms"][i], levels[i])
        self._led = _pin_out(pins["led"], 0) if "led" in pins else None

        caps = []
        self._needle = self._stall = None
        if "needle_detect" in pins:
            self._needle = _pin_in(pins["needle_detect"])
            self._needle_on = active["needle_detect"]
            caps.append("needle_detect")
        if "stall" in pins:
            self._stall = machine.Pin(pins["stall"], machine.Pin.IN)
            self._stall_on = active["stall"]
            caps.append("stall_detect")
        self._provision = False
        if "provision" in pins:
            jumper = _pin_in(pins["provision"])
            self._provision = jumper.value() == active["provision"]
            caps.append("provision_gate")
        self.caps = tuple(caps)
        self._cause = self._read_reset_cause()

        # Maintenance boot (jumper held): Ctrl-C still reaches the REPL and no
        # watchdog runs, so mpremote can stop main.py and copy files. Otherwise
        # 0x03 is an ordinary protocol byte and the watchdog guards the loop.
        self._wdt = None
        self._fed = False
        if not self._provision:
            micropython.kbd_intr(-1)
            self._wdt = machine.WDT(timeout=WDT_TIMEOUT_MS)

        self._stdin = sys.stdin.buffer
        self._stdout = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)
        self._rx = bytearray(_RX_CHUNK)
        try:
            os.mkdir(STATE_DIR)
        except OSError:
            pass  # already there

    # identity
    def reset_cause(self):
        return self._cause

    def _read_reset_cause(self):
        cause = machine.reset_cause()
        for attr, name in _RESET_CAUSES:
            if getattr(machine, attr, None) == cause:
                return name
        return "unknown"

    # time
    def rtc_s(self):
        return time.time() + _EPOCH_OFFSET

    def set_rtc_s(self, s):
        t = time.gmtime(s - _EPOCH_OFFSET)
        machine.RTC().datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))

    # driver enable
    def driver_enable(self, on):
        self._enable.value(self._en_on if on else 1 - self._en_on)
        if on:
            # The driver ignores STEP until its charge pump and logic are awake.
            self.ready_at = time.ticks_add(time.ticks_us(), self._wake_us)

    # serial line
    def serial_pending(self):
        return bool(self._poll.poll(0))

    def serial_read(self):
        n = 0
        while n < _RX_CHUNK and self._poll.poll(0):
            self._rx[n] = self._stdin.read(1)[0]
            n += 1
        return bytes(self._rx[:n]) if n else b""

    def serial_write(self, data):
        self._stdout.write(data)

    def wait_serial(self, timeout_ms):
        """Block up to timeout_ms for a received byte. select.poll lets the port
        idle the CPU (WFE) while USB/UART keep running; machine.lightsleep would
        stop the USB clock and drop the CDC link, so it is not used."""
        # The control loop may sleep up to a minute, far past the 5 s watchdog. A
        # loop that fed the dog before going idle is healthy, so the sleep is
        # sliced and the dog fed between slices; a loop that stopped feeding
        # (hung elsewhere) gets no such help and is reset.
        healthy = self._fed
        self._fed = False
        while timeout_ms > 0:
            chunk = timeout_ms if timeout_ms < WDT_SLICE_MS else WDT_SLICE_MS
            if self._poll.poll(chunk):
                return
            timeout_ms -= chunk
            if healthy and self._wdt is not None:
                self._wdt.feed()

    # storage
    def _path(self, name):
        if "/" in name or not name:
            raise ValueError("bad file name")
        return STATE_DIR + "/" + name

    def fs_read(self, name):
        try:
            with open(self._path(name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def fs_write(self, name, data):
        with open(self._path(name), "wb") as f:
            f.write(data)

    def fs_append(self, name, data):
        with open(self._path(name), "ab") as f:
            f.write(data)

    def fs_rename(self, src, dst):
        # littlefs replaces dst atomically; FAT refuses an existing dst.
        try:
            os.rename(self._path(src), self._path(dst))
        except OSError:
            self.fs_remove(dst)
            os.rename(self._path(src), self._path(dst))

    def fs_remove(self, name):
        try:
            os.remove(self._path(name))
        except OSError:
            pass

    # watchdog and inputs
    def wdt_feed(self):
        self._fed = True
        if self._wdt is not None:
            self._wdt.feed()
        if self._led is not None:
            # Heartbeat: the LED blinks while a healthy loop feeds the watchdog.
            self._led.toggle()

    def needle_present(self):
        return self._needle is not None and self._needle.value() == self._needle_on

    def stalled(self):
        return self._stall is not None and self._stall.value() == self._stall_on

    def provision_gate(self):
        return self._provision
