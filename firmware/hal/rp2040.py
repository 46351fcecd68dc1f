# HAL (docs/hal.md) for a Raspberry Pi Pico / RP2040 running MicroPython.
#
# Every STEP pulse comes from one PIO state machine running hal/step_pio.py, so
# pulse widths are exact and the STEP pin never changes owner. Each unit of the
# step queue (hal/mcu.py) goes to the PIO as (count, period, gap before the first
# edge): fast units are timed edge by edge by the PIO; for slow (basal) steps it
# only makes the pulse and trims the last few milliseconds.
# The PIO pushes one RX word per finished unit, which is how steps are counted.
# step_stop() halts the state machine and reads its X register (steps still to
# emit in the running unit, decremented by the very instruction that raises
# STEP), so the count after a stop is exact.
import array
import machine
import rp2
import time

from hal import step_pio
from hal.mcu import McuHal
from hal.rp2_step_program import assemble

PIO_HZ = 1000000  # one PIO cycle per microsecond, the HAL's unit of time
_SM_ID = 0  # PIO0, state machine 0
# RP2040 datasheet 3.7: PIO0 at 0x50200000, SM0_ADDR (current PC) at +0x0d4,
# 0x18 bytes per state machine.
_PC_REG = 0x50200000 + 0x0D4 + 0x18 * _SM_ID

# Chain a unit behind the running one only while that one surely has not ended,
# otherwise its gap would be counted from the wrong moment.
CHAIN_MIN_US = 500
# Every span the HAL adds to a tick stays inside ticks arithmetic range (2**29 us):
# a fast unit lasts at most UNIT_SPAN_MAX_US, a slow step is at most 2**29 - 1 us.
UNIT_SPAN_MAX_US = 1 << 28


class Rp2040Hal(McuHal):
    def __init__(self):
        # Two units in flight = four words = a full TX FIFO; a unit's steps are
        # bounded only by its span; the PIO pushes a unit's completion within 3
        # cycles of its last pulse ending.
        McuHal.__init__(self, "pico_drv8825", 2, UNIT_SPAN_MAX_US, UNIT_SPAN_MAX_US, 3)
        self._period_ovh = step_pio.period_overhead(self._high)
        self._chain_ovh = step_pio.chain_overhead(self._high)
        self.min_interval_us = max(self.min_interval_us, self._chain_ovh, self._period_ovh)
        self._step_pin = machine.Pin(self._step_gpio)
        self._prog = assemble(self._high)
        self._sm = rp2.StateMachine(_SM_ID)
        self._tx = array.array("I", (0, 0))
        self._hw_end = 0
        self._start_sm()

    def _start_sm(self):
        sm = self._sm
        sm.init(self._prog, freq=PIO_HZ, sideset_base=self._step_pin)
        # init leaves the PC at the program's first instruction: its load offset.
        self._offset = machine.mem32[_PC_REG] & 31
        sm.active(1)

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

    # port hooks of hal/mcu.py
    def _drain(self):
        sm = self._sm
        while sm.rx_fifo():
            sm.get()
            self._unit_done()

    def _emit(self, count, period, lead, now):
        chained = self._in_flight > 0
        if chained:
            if time.ticks_diff(self._hw_end, now) < CHAIN_MIN_US:
                return None  # let it finish; idle() wakes at its end
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
        self._hw_end = time.ticks_add(first, (count - 1) * period)
        return first
