"""SimHAL: the HAL of docs/hal.md on the simulator's virtual machine.

Every argument and result is an int, bool, str, bytes, None or a tuple of
those, so a bridge can forward calls as JSON from a MicroPython VM (issue 6).
Every method first checks power: once power is cut, the next HAL call raises
PowerLoss and the firmware stops there.
"""

from . import clock as _clock

CAPS = ("rig", "needle_detect", "stall_detect", "occlusion_detect", "provision_gate")


def _ints(*values):
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"HAL argument must be an int, got {v!r}")


class SimHAL:
    board = "sim"
    caps = CAPS

    def __init__(self, machine, serial, mechanics, provision_gate=False):
        self.mechanics = mechanics  # the board file's MECHANICS dict
        self._m = machine
        self._serial = serial
        # The provisioning switch; the firmware reads it at boot (rig: provision_gate).
        self.gate_held = provision_gate

    # -- identity --------------------------------------------------------------
    def reset_cause(self):
        self._m.check()
        return self._m.reset_cause

    # -- time ------------------------------------------------------------------
    def ticks_ms(self):
        self._m.check()
        return self._m.clock.ticks_ms()

    def ticks_us(self):
        self._m.check()
        return self._m.clock.ticks_us()

    def ticks_diff(self, a, b):
        self._m.check()
        return _clock.ticks_diff(a, b)

    def ticks_add(self, t, d):
        self._m.check()
        return _clock.ticks_add(t, d)

    def rtc_s(self):
        self._m.check()
        return self._m.clock.rtc_s()

    def set_rtc_s(self, s):
        _ints(s)
        m = self._m
        with m.cond:
            m.check()
            m.clock.set_rtc_s(s)

    # -- step generator ------------------------------------------------------
    def step_queue(self, start_us, count, interval_us):
        _ints(start_us, count, interval_us)
        m = self._m
        with m.cond:
            m.check()
            start = m.clock.abs_from_ticks_us(start_us)
            ok = m.steps.queue(start, count, interval_us, m.clock.now_us)
            m.collect_steps()  # a segment starting now emits its first pulse now
            return ok

    def step_pending(self):
        m = self._m
        with m.cond:
            m.check()
            return m.steps.pending()

    def step_count(self):
        m = self._m
        with m.cond:
            m.check()
            return m.steps.emitted()

    def step_stop(self):
        m = self._m
        with m.cond:
            m.check()
            m.steps.stop()

    def driver_enable(self, on):
        m = self._m
        with m.cond:
            m.check()
            m.plant.driver_enabled = bool(on)

    # -- serial line ---------------------------------------------------------
    def serial_read(self):
        self._m.check()
        return self._m.take_rx()

    def serial_write(self, data):
        self._m.check()
        # MicroPython streams take str as well as bytes (str exposes its UTF-8
        # buffer), so a board accepts both; so must the simulator.
        if isinstance(data, str):
            data = data.encode()
        self._serial.write(bytes(data))

    # -- waiting ---------------------------------------------------------------
    def idle(self, timeout_ms):
        _ints(timeout_ms)
        self._m.idle(timeout_ms)

    # -- persistent storage --------------------------------------------------
    def fs_read(self, name):
        m = self._m
        with m.cond:
            m.check()
            return m.flash.read(name)

    def fs_write(self, name, data):
        m = self._m
        with m.cond:
            m.check()
            if not m.flash.write(name, data):
                m.cut_power()  # the armed tear: power died mid-write
                m.check()

    def fs_append(self, name, data):
        m = self._m
        with m.cond:
            m.check()
            if not m.flash.append(name, data):
                m.cut_power()
                m.check()

    def fs_rename(self, src, dst):
        m = self._m
        with m.cond:
            m.check()
            m.flash.rename(src, dst)

    def fs_remove(self, name):
        m = self._m
        with m.cond:
            m.check()
            m.flash.remove(name)

    # -- watchdog and inputs -------------------------------------------------
    def wdt_feed(self):
        m = self._m
        with m.cond:
            m.check()
            m.wdt_feed()

    def needle_present(self):
        self._m.check()
        return self._m.plant.needle_detected

    def stalled(self):
        m = self._m
        with m.cond:
            m.check()
            return m.plant.stalled

    def provision_gate(self):
        self._m.check()
        return self.gate_held
