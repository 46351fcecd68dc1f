# The parts of a board HAL (docs/hal.md) that are the same on every MicroPython
# microcontroller: board selection, time, RTC, console serial line, idle(), littlefs
# storage, watchdog, reset cause, the optional inputs, and the step queue. A port
# (hal/rp2040.py, hal/esp32.py) adds only how steps reach its pulse hardware.
#
# The step queue hands each segment to the port as "units" (count, period, first
# edge), at most `in_flight` of them at once:
#   - fast segments (interval <= _FAST_INTERVAL_MAX_US: bolus, priming) go over as
#     long units, each edge timed by the hardware;
#   - slow segments (basal) go over one step at a time, each unit handed over
#     shortly before its absolute ticks_us deadline (CPU-timed deadlines; the
#     hardware only makes the pulse).
# Every unit starts at its own absolute deadline, so a late main loop delays at
# most one unit and never accumulates. A unit is counted when the hardware reports
# it done; in between, step_count() times the running one.
# A port subclass provides:
#   _emit(count, period, lead, now): start a unit whose first edge is due `lead` us
#       after the tick `now`; return the tick of that edge (never earlier than the
#       real one), or None to hand it over later;
#   _drain(): call _unit_done() for every unit the hardware has finished;
#   step_stop().
import machine
import micropython
import os
import select
import sys
import time
from micropython import const

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

# const() names with a leading underscore are folded in by the compiler and take
# no RAM on the board.
_FAST_INTERVAL_MAX_US = const(16000)
_LEAD_US = const(20000)  # hand a unit over at most this long before its first edge
_INTERVAL_MAX_US = const((1 << 29) - 1)  # keeps every span in ticks arithmetic range
_QUEUE_DEPTH = const(3)
_RING = const(4)  # unit slots, more than any port keeps in flight

# segment fields
_NEXT = const(0)  # absolute deadline of the next step not yet handed over
_COUNT = const(1)
_INTERVAL = const(2)
_HANDED = const(3)
_DONE = const(4)


def _pin_out(number, level):
    return machine.Pin(number, machine.Pin.OUT, value=level)


def _pin_in(number):
    return machine.Pin(number, machine.Pin.IN, machine.Pin.PULL_UP)


class McuHal:
    def __init__(self, default_board, in_flight, unit_steps, unit_us, end_us):
        """`default_board`: the board module when /board_select.py (written by
        scripts/flash.py) names none. A unit is at most `unit_steps` steps and
        `unit_us` long (but at least one step); `in_flight` units may be handed over
        at once; the hardware reports a unit done within `end_us` of its last edge
        going low."""
        try:
            import board_select  # pyright: ignore[reportMissingImports]  (written at flash time)

            name = "boards." + board_select.BOARD_MODULE
        except ImportError:
            name = "boards." + default_board
        __import__(name)
        board = sys.modules[name]
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

        # Step timing in whole microseconds (one PIO cycle or RMT tick each): the
        # datasheet minimum rounded up, plus one of margin.
        self._high = (driver["step_high_ns"] + 999) // 1000 + 1
        self.min_interval_us = self._high + (driver["step_low_ns"] + 999) // 1000 + 1
        self._step_gpio = pins["step"]
        self._in_flight_max = in_flight
        self._unit_steps = unit_steps
        self._unit_us = unit_us
        self._end_us = end_us
        self._segs = []
        # Units handed over and not yet done, oldest (the running one) at _u_head.
        self._u_count = [0] * _RING
        self._u_period = [0] * _RING
        self._u_first = [0] * _RING
        self._u_head = 0
        self._in_flight = 0
        self._done = 0

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

    # step generator
    def step_queue(self, start_us, count, interval_us):
        if len(self._segs) >= _QUEUE_DEPTH:
            return False
        if count > 0:
            if interval_us < 1 or interval_us > _INTERVAL_MAX_US:
                raise ValueError("interval_us out of range")
            self._segs.append([start_us, count, interval_us, 0, 0])
            self._service()
        return True

    def step_pending(self):
        self._service()
        return len(self._segs)

    def step_count(self):
        self._service()
        n = self._done
        if self._in_flight:
            i = self._u_head
            c = self._u_count[i]
            # Edges are not seen until the unit ends, only timed: count those the
            # model places at least 2 us in the past. The model never runs ahead of
            # the hardware, so this lags by at most one step and never overtakes
            # the exact figure read at completion or stop.
            since = time.ticks_diff(time.ticks_us(), self._u_first[i]) - 2
            if c > 1 and since >= 0:
                k = since // self._u_period[i] + 1
                n += k if k < c else c - 1
        return n

    # serial line
    def serial_read(self):
        n = 0
        while n < _RX_CHUNK and self._poll.poll(0):
            self._rx[n] = self._stdin.read(1)[0]
            n += 1
        return bytes(self._rx[:n]) if n else b""

    def serial_write(self, data):
        self._stdout.write(data)

    # waiting
    def idle(self, timeout_ms):
        self._service()
        wait_us = timeout_ms * 1000
        now = time.ticks_us()
        if self._in_flight:
            i = self._u_head
            span = (self._u_count[i] - 1) * self._u_period[i]
            end = time.ticks_add(self._u_first[i], span)  # pyright: ignore[reportArgumentType]
            wait_us = min(wait_us, time.ticks_diff(end, now) + self._high + self._end_us)
        seg = self._next_unhanded()
        if seg is not None and self._in_flight < self._in_flight_max:
            wait_us = min(wait_us, time.ticks_diff(seg[_NEXT], now) - _LEAD_US // 2)
        # Wait on the console: select.poll lets the port idle the CPU (WFE) while
        # USB/UART keep running; machine.lightsleep would stop the USB clock and
        # drop the CDC link, so it is not used.
        if wait_us > 0 and not self._poll.poll(0):
            # The control loop may sleep up to a minute, far past the 5 s watchdog.
            # A loop that fed the dog before going idle is healthy, so the sleep is
            # sliced and the dog fed between slices; a loop that stopped feeding
            # (hung elsewhere) gets no such help and is reset.
            healthy = self._fed
            self._fed = False
            wait_ms = (wait_us + 999) // 1000
            while wait_ms > 0:
                chunk = wait_ms if wait_ms < WDT_SLICE_MS else WDT_SLICE_MS
                if self._poll.poll(chunk):
                    break
                wait_ms -= chunk
                if healthy and self._wdt is not None:
                    self._wdt.feed()
        self._service()

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

    # step internals
    def _service(self):
        self._drain()  # pyright: ignore[reportAttributeAccessIssue]
        self._feed()

    def _unit_done(self):
        i = self._u_head
        c = self._u_count[i]
        self._u_head = (i + 1) % _RING
        self._in_flight -= 1
        self._done += c
        # units finish in order, so they always belong to the oldest segment
        seg = self._segs[0]
        seg[_DONE] += c
        if seg[_DONE] >= seg[_COUNT]:
            self._segs.pop(0)

    def _next_unhanded(self):
        for seg in self._segs:
            if seg[_HANDED] < seg[_COUNT]:
                return seg
        return None

    def _feed(self):
        while self._in_flight < self._in_flight_max:
            seg = self._next_unhanded()
            if seg is None:
                return
            interval = seg[_INTERVAL]
            # faster than the driver accepts: run at the driver's limit instead
            period = max(interval, self.min_interval_us)
            count = 1
            if interval <= _FAST_INTERVAL_MAX_US:
                count = min(
                    seg[_COUNT] - seg[_HANDED], self._unit_steps, max(1, self._unit_us // period)
                )
            now = time.ticks_us()
            lead = time.ticks_diff(seg[_NEXT], now)
            if lead > _LEAD_US:
                return
            waking = time.ticks_diff(self.ready_at, now)  # pyright: ignore
            if 0 < waking <= self._wake_us and waking > lead:
                lead = waking
            first = self._emit(count, period, lead, now)  # pyright: ignore[reportAttributeAccessIssue]
            if first is None:
                return
            i = (self._u_head + self._in_flight) % _RING
            self._u_count[i] = count
            self._u_period[i] = period
            self._u_first[i] = first
            self._in_flight += 1
            seg[_HANDED] += count
            seg[_NEXT] = time.ticks_add(seg[_NEXT], count * interval)
