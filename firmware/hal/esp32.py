# HAL (docs/hal.md) for a generic ESP32 DevKit running MicroPython.
#
# STEP pulses come from the RMT peripheral at 1 us resolution. Each unit of the
# step queue (hal/mcu.py) is one RMT "chunk": a low lead-in up to the first edge's
# absolute ticks_us deadline, then count pulses (high, low, ..., high). The RMT
# cannot report progress inside a chunk, so chunks are kept short
# (CHUNK_PULSES_MAX pulses, CHUNK_US of time) and one runs at a time; a chunk is
# counted when the RMT reports it done, and step_stop() lets the running chunk
# finish (at most CHUNK_US) so the count stays exact. Slow (basal) segments go
# out one pulse per chunk, each written shortly before its deadline.
import esp32
import machine
import time

from hal.mcu import McuHal

RMT_HZ = 1000000  # 1 us per RMT tick, the HAL's unit of time
_RMT_CHANNEL = 0
_PULSE_MAX = 32767  # longest RMT duration, in ticks
CHUNK_PULSES_MAX = 32
CHUNK_US = 25000


def _make_rmt(pin):
    try:
        return esp32.RMT(_RMT_CHANNEL, pin=pin, resolution_hz=RMT_HZ, idle_level=False)
    except TypeError:
        # MicroPython before the ESP-IDF 5 RMT driver: 80 MHz APB / 80
        return esp32.RMT(_RMT_CHANNEL, pin=pin, clock_div=80, idle_level=False)


class Esp32Hal(McuHal):
    def __init__(self):
        # One chunk at a time, of at most CHUNK_PULSES_MAX pulses and CHUNK_US;
        # idle() wakes 20 us after a chunk's last pulse ends, a margin for the RMT
        # to report it done.
        McuHal.__init__(self, "esp32_devkit", 1, CHUNK_PULSES_MAX, CHUNK_US, 20)
        self._rmt = _make_rmt(machine.Pin(self._step_gpio, machine.Pin.OUT, value=0))
        self._durations = [0] * (2 * CHUNK_PULSES_MAX)

    def step_stop(self):
        if self._in_flight:
            self._rmt.wait_done(timeout=CHUNK_US // 1000 + 5)
            self._unit_done()
        self._segs = []

    # port hooks of hal/mcu.py
    def _drain(self):
        if self._in_flight and self._rmt.wait_done():
            self._unit_done()

    def _emit(self, count, period, lead, now):
        lead = min(max(lead, 1), _PULSE_MAX)  # 0 would end the RMT sequence
        d = self._durations
        d[0] = lead
        low = period - self._high
        for i in range(count):
            d[2 * i + 1] = self._high
            if i + 1 < count:
                d[2 * i + 2] = low
        self._rmt.write_pulses(d[: 2 * count], False)
        return time.ticks_add(time.ticks_us(), lead)
