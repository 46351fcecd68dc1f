# HAL (docs/hal.md) for a generic ESP32 DevKit running MicroPython.
#
# STEP pulses come from the RMT peripheral at 1 us resolution, in "chunks": a
# low lead-in up to the first edge's absolute ticks_us deadline, then count
# pulses (high, low, ..., high). The RMT cannot report progress inside a chunk,
# so chunks are kept short (CHUNK_PULSES_MAX pulses, CHUNK_US of time); a chunk
# is counted when the RMT reports it done, and step_stop() lets the running
# chunk finish (at most CHUNK_US) so the count stays exact.
#   - fast segments (interval <= FAST_INTERVAL_MAX_US) go out chunk after chunk;
#   - slow segments (basal) go out one pulse per chunk, each written shortly
#     before its absolute deadline (CPU-timed deadlines).
# Every chunk starts at its own absolute deadline, so a late main loop delays at
# most one chunk and never accumulates.
import esp32
import machine
import time

from hal.mcu import McuHal, load_board

DEFAULT_BOARD = "esp32_devkit"

RMT_HZ = 1000000  # 1 us per RMT tick, the HAL's unit of time
_RMT_CHANNEL = 0
_PULSE_MAX = 32767  # longest RMT duration, in ticks
FAST_INTERVAL_MAX_US = 16000
CHUNK_PULSES_MAX = 32
CHUNK_US = 25000
LEAD_US = 20000  # write a chunk at most this long before its first edge
INTERVAL_MAX_US = (1 << 29) - 1
QUEUE_DEPTH = 3

_NEXT = 0
_COUNT = 1
_INTERVAL = 2
_DONE = 3


def make_hal():
    return Esp32Hal(load_board(DEFAULT_BOARD))


def _cycles(ns):
    return (ns + 999) // 1000 + 1


def _make_rmt(pin):
    try:
        return esp32.RMT(_RMT_CHANNEL, pin=pin, resolution_hz=RMT_HZ, idle_level=False)
    except TypeError:
        # MicroPython before the ESP-IDF 5 RMT driver: 80 MHz APB / 80
        return esp32.RMT(_RMT_CHANNEL, pin=pin, clock_div=80, idle_level=False)


class Esp32Hal(McuHal):
    def __init__(self, board):
        McuHal.__init__(self, board)
        driver = board.DRIVER
        self._high = _cycles(driver["step_high_ns"])
        self.min_interval_us = self._high + _cycles(driver["step_low_ns"])
        self._rmt = _make_rmt(machine.Pin(board.PINS["step"], machine.Pin.OUT, value=0))
        self._durations = [0] * (2 * CHUNK_PULSES_MAX)
        self._segs = []
        self._chunk = 0  # pulses in the chunk the RMT is sending, 0 if idle
        self._chunk_first = 0
        self._chunk_period = 1
        self._done = 0

    # step generator
    def step_queue(self, start_us, count, interval_us):
        if len(self._segs) >= QUEUE_DEPTH:
            return False
        if count > 0:
            if interval_us < 1 or interval_us > INTERVAL_MAX_US:
                raise ValueError("interval_us out of range")
            self._segs.append([start_us, count, interval_us, 0])
            self._service()
        return True

    def step_pending(self):
        self._service()
        return len(self._segs)

    def step_count(self):
        self._service()
        n = self._done
        c = self._chunk
        if c > 1:
            # timed, not seen: count edges the model puts 2 us in the past; the
            # model starts after write_pulses() returns, so it never runs ahead
            since = time.ticks_diff(time.ticks_us(), self._chunk_first) - 2
            if since >= 0:
                k = since // self._chunk_period + 1
                n += k if k < c else c - 1
        return n

    def step_stop(self):
        if self._chunk:
            self._rmt.wait_done(timeout=CHUNK_US // 1000 + 5)
            self._finish_chunk()
        self._segs = []

    # waiting
    def idle(self, timeout_ms):
        self._service()
        wait_us = timeout_ms * 1000
        now = time.ticks_us()
        if self._chunk:
            span = (self._chunk - 1) * self._chunk_period
            end = time.ticks_add(self._chunk_first, span)  # pyright: ignore[reportArgumentType]
            wait_us = min(wait_us, time.ticks_diff(end, now) + self._high + 20)
        elif self._segs:
            wait_us = min(wait_us, time.ticks_diff(self._segs[0][_NEXT], now) - LEAD_US // 2)
        if wait_us > 0 and not self.serial_pending():
            self.wait_serial((wait_us + 999) // 1000)
        self._service()

    # internals
    def _service(self):
        if self._chunk and self._rmt.wait_done():
            self._finish_chunk()
        if not self._chunk and self._segs:
            self._start_chunk(self._segs[0])

    def _finish_chunk(self):
        c = self._chunk
        self._chunk = 0
        self._done += c
        seg = self._segs[0]
        seg[_DONE] += c
        if seg[_DONE] >= seg[_COUNT]:
            self._segs.pop(0)

    def _start_chunk(self, seg):
        interval = seg[_INTERVAL]
        period = max(interval, self.min_interval_us)
        count = 1
        if interval <= FAST_INTERVAL_MAX_US:
            count = min(seg[_COUNT] - seg[_DONE], CHUNK_PULSES_MAX, max(1, CHUNK_US // period))
        now = time.ticks_us()
        lead = time.ticks_diff(seg[_NEXT], now)
        if lead > LEAD_US:
            return
        waking = time.ticks_diff(self.ready_at, now)  # pyright: ignore
        if 0 < waking <= self._wake_us and waking > lead:
            lead = waking
        lead = min(max(lead, 1), _PULSE_MAX)  # 0 would end the RMT sequence
        d = self._durations
        d[0] = lead
        low = period - self._high
        for i in range(count):
            d[2 * i + 1] = self._high
            if i + 1 < count:
                d[2 * i + 2] = low
        self._rmt.write_pulses(d[: 2 * count], False)
        self._chunk = count
        self._chunk_first = time.ticks_add(time.ticks_us(), lead)
        self._chunk_period = period
        seg[_NEXT] = time.ticks_add(seg[_NEXT], count * interval)
