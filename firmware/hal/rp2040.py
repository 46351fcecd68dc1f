# HAL (docs/hal.md) for a Raspberry Pi Pico / RP2040 running MicroPython.
#
# Every STEP pulse comes from one PIO state machine running hal/step_pio.py, so
# pulse widths are exact and the STEP pin never changes owner. The CPU hands it
# "units" (count, period, gap before the first edge):
#   - fast segments (interval <= FAST_INTERVAL_MAX_US: bolus, priming) go over
#     as whole units and the PIO times every edge;
#   - slow segments (basal) go over one step at a time, each unit handed over
#     shortly before its absolute ticks_us deadline (CPU-timed deadlines; the
#     PIO only makes the pulse and trims the last few milliseconds).
# The PIO pushes one RX word per finished unit, which is how steps are counted.
# step_stop() halts the state machine and reads its X register (steps still to
# emit in the running unit, decremented by the very instruction that raises
# STEP), so the count after a stop is exact.
import array
import machine
import rp2
import time

from hal import step_pio
from hal.mcu import McuHal, load_board
from hal.rp2_step_program import assemble

DEFAULT_BOARD = "pico_drv8825"

PIO_HZ = 1000000  # one PIO cycle per microsecond, the HAL's unit of time
_SM_ID = 0  # PIO0, state machine 0
# RP2040 datasheet 3.7: PIO0 at 0x50200000, SM0_ADDR (current PC) at +0x0d4,
# 0x18 bytes per state machine.
_PC_REG = 0x50200000 + 0x0D4 + 0x18 * _SM_ID

FAST_INTERVAL_MAX_US = 16000
LEAD_US = 20000  # hand a unit to the PIO at most this long before its first edge
# Chain a unit behind the running one only while that one surely has not ended,
# otherwise its gap would be counted from the wrong moment.
CHAIN_MIN_US = 500
# Every span the HAL adds to a tick stays inside ticks arithmetic range (2**29 us):
# a fast unit lasts at most UNIT_SPAN_MAX_US, a slow step is at most INTERVAL_MAX_US.
UNIT_SPAN_MAX_US = 1 << 28
INTERVAL_MAX_US = (1 << 29) - 1
QUEUE_DEPTH = 3
_IN_FLIGHT_MAX = 2  # two units = four words = a full TX FIFO
_RING = 4  # > _IN_FLIGHT_MAX; the RX FIFO holds 4 completions

# segment fields
_NEXT = 0  # absolute deadline of the next step not yet handed to the PIO
_COUNT = 1
_INTERVAL = 2
_HANDED = 3
_DONE = 4


def make_hal():
    return Rp2040Hal(load_board(DEFAULT_BOARD))


def _cycles(ns):
    # one cycle of margin over the datasheet minimum
    return (ns + 999) // 1000 + 1


class Rp2040Hal(McuHal):
    def __init__(self, board):
        McuHal.__init__(self, board)
        driver = board.DRIVER
        self._high = _cycles(driver["step_high_ns"])
        self._period_ovh = step_pio.period_overhead(self._high)
        self._chain_ovh = step_pio.chain_overhead(self._high)
        self.min_interval_us = max(
            self._high + _cycles(driver["step_low_ns"]), self._chain_ovh, self._period_ovh
        )
        self._step_pin = machine.Pin(board.PINS["step"])
        self._prog = assemble(self._high)
        self._sm = rp2.StateMachine(_SM_ID)
        self._tx = array.array("I", (0, 0))
        self._segs = []
        self._u_count = [0] * _RING
        self._u_period = [0] * _RING
        self._u_first = [0] * _RING
        self._u_head = 0
        self._in_flight = 0
        self._hw_end = 0
        self._done = 0
        self._start_sm()

    def _start_sm(self):
        sm = self._sm
        sm.init(self._prog, freq=PIO_HZ, sideset_base=self._step_pin)
        # init leaves the PC at the program's first instruction: its load offset.
        self._offset = machine.mem32[_PC_REG] & 31
        sm.active(1)

    # step generator
    def step_queue(self, start_us, count, interval_us):
        if len(self._segs) >= QUEUE_DEPTH:
            return False
        if count > 0:
            if interval_us < 1 or interval_us > INTERVAL_MAX_US:
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
            # the PIO, so this lags by at most one step and never overtakes the
            # exact figure read at completion or stop.
            since = time.ticks_diff(time.ticks_us(), self._u_first[i]) - 2
            if c > 1 and since >= 0:
                k = since // self._u_period[i] + 1
                n += k if k < c else c - 1
        return n

    def step_stop(self):
        sm = self._sm
        sm.active(0)
        self._drain()
        if self._in_flight:
            # A pulse cut by the halt keeps STEP high: give it its full width
            # before anything drives the pin low again.
            time.sleep_us(self._high)
            pc = (machine.mem32[_PC_REG] - self._offset) & 31
            sm.exec(step_pio.READ_X[0])
            sm.exec(step_pio.READ_X[1])
            x = sm.get()
            self._done += step_pio.emitted(self._u_count[self._u_head], pc, x)
        self._segs = []
        self._in_flight = 0
        self._start_sm()

    # waiting
    def idle(self, timeout_ms):
        self._service()
        wait_us = timeout_ms * 1000
        now = time.ticks_us()
        if self._in_flight:
            i = self._u_head
            span = (self._u_count[i] - 1) * self._u_period[i]
            end = time.ticks_add(self._u_first[i], span)  # pyright: ignore[reportArgumentType]
            wait_us = min(wait_us, time.ticks_diff(end, now) + self._high + 3)
        seg = self._next_unhanded()
        if seg is not None and self._in_flight < _IN_FLIGHT_MAX:
            wait_us = min(wait_us, time.ticks_diff(seg[_NEXT], now) - LEAD_US // 2)
        if wait_us > 0 and not self.serial_pending():
            self.wait_serial((wait_us + 999) // 1000)
        self._service()

    # internals
    def _service(self):
        self._drain()
        self._feed()

    def _drain(self):
        sm = self._sm
        while sm.rx_fifo():
            sm.get()
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
        while self._in_flight < _IN_FLIGHT_MAX:
            seg = self._next_unhanded()
            if seg is None:
                return
            interval = seg[_INTERVAL]
            # faster than the driver accepts: run at the driver's limit instead
            period = max(interval, self.min_interval_us)
            left = seg[_COUNT] - seg[_HANDED]
            count = 1
            if interval <= FAST_INTERVAL_MAX_US:
                count = min(left, UNIT_SPAN_MAX_US // period)
            now = time.ticks_us()
            lead = time.ticks_diff(seg[_NEXT], now)
            if lead > LEAD_US:
                return
            waking = time.ticks_diff(self.ready_at, now)
            if 0 < waking <= self._wake_us and waking > lead:
                lead = waking
            chained = self._in_flight > 0
            if chained:
                if time.ticks_diff(self._hw_end, now) < CHAIN_MIN_US:
                    return  # let it finish; idle() wakes at its end
                gap = time.ticks_diff(now, self._hw_end) + lead - self._chain_ovh
            else:
                gap = lead - step_pio.START_OVERHEAD
            gap = min(max(gap, 0), step_pio.GAP_MAX)
            self._tx[0], self._tx[1] = step_pio.unit_words(count, period, gap, self._high)
            self._sm.put(self._tx)
            # Anchor the model after put(): the PIO cannot have started later, so
            # modelled edges are never earlier than real ones.
            if chained:
                first = time.ticks_add(self._hw_end, gap + self._chain_ovh)  # pyright: ignore
            else:
                first = time.ticks_add(time.ticks_us(), gap + step_pio.START_OVERHEAD)
            i = (self._u_head + self._in_flight) % _RING
            self._u_count[i] = count
            self._u_period[i] = period
            self._u_first[i] = first  # pyright: ignore
            self._in_flight += 1
            self._hw_end = time.ticks_add(first, (count - 1) * period)
            seg[_HANDED] += count
            seg[_NEXT] = time.ticks_add(seg[_NEXT], count * interval)
