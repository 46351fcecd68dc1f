"""The simulated MCU's world: virtual time, the step generator driving the
plant, the serial receive buffer, and power.

One condition variable guards all of it. The firmware ("MCU") thread only
blocks inside `idle`, and virtual time only moves there (or, while the MCU is
blocked in `idle`, on its behalf), so everything the firmware does between two
idle calls happens at one frozen instant and runs are deterministic.
"""

import threading
import time

from .errors import PowerLoss, SimError
from .stepgen import StepGenerator

RX_LIMIT = 64 * 1024  # beyond this the line stops accepting bytes (USB flow control)

MCU_OFF = "off"
MCU_RUNNING = "running"
MCU_HALTED = "halted"  # firmware returned or crashed; the clock still runs


class Machine:
    def __init__(self, clock, plant, flash, speed=1.0, stepped=False, delivery_log=None):
        self.cond = threading.Condition()
        self.clock = clock
        self.plant = plant
        self.flash = flash
        self.delivery_log = delivery_log
        self.steps = StepGenerator()
        self.rx = bytearray()
        self.closed = False
        # MCU bookkeeping
        self.mcu_state = MCU_OFF
        self.mcu_error = None
        self.boots = 0
        self.reset_cause = "power_on"
        self.idle_calls = 0  # since boot
        self.wdt_fed_us = None  # virtual time of the last watchdog feed since boot
        self._cut = None  # exception class the next HAL call raises
        # time mode
        self._stepped = stepped
        self._speed = float(speed)
        self._target_us = 0  # stepped mode: the rig's advance target
        self._blocked = False  # MCU waits in idle with nothing left to do
        self._idle_deadline = None  # set while the MCU is inside idle
        self._anchor()

    # -- time mode -----------------------------------------------------------
    def _anchor(self):
        self._anchor_wall = time.monotonic()
        self._anchor_us = self.clock.now_us

    def _wall_us(self):
        return self._anchor_us + int((time.monotonic() - self._anchor_wall) * self._speed * 1e6)

    @property
    def stepped(self):
        return self._stepped

    @property
    def speed(self):
        return None if self._stepped else self._speed

    def mode(self):
        if self._stepped:
            return "stepped"
        return "realtime" if self._speed == 1.0 else "accelerated"

    def set_speed(self, speed):
        """`speed` > 0 runs virtual time at that multiple of wall time; None is stepped."""
        with self.cond:
            self.sync()
            self._stepped = speed is None
            if speed is not None:
                self._speed = float(speed)
            self._target_us = self.clock.now_us
            self._anchor()
            self.cond.notify_all()

    # -- moving time ---------------------------------------------------------
    def advance_to(self, t_us):
        """Move virtual time forward and hand the pulses emitted meanwhile to the plant."""
        if t_us > self.clock.now_us:
            self.clock.advance_to(t_us)
            self.collect_steps()

    def collect_steps(self):
        spans = self.steps.collect(self.clock.now_us)
        plant = self.plant
        log = self.delivery_log
        if log is None:
            plant.pulse(sum(end - first for _, _, first, end in spans))
            return
        for start, interval, first, end in spans:
            for k in range(first, end):
                if plant.pulse(1):
                    log.row(start + k * interval, plant.microsteps, plant.delivered_ul)

    def sync(self):
        """In timed modes, bring virtual time up to wall time while the MCU sleeps
        in idle (never past its wake-up), so readers see the present. Lock held."""
        if not self._stepped and self._idle_deadline is not None:
            self.advance_to(min(self._wall_us(), self._idle_deadline))

    def idle(self, timeout_ms):
        """The HAL's idle: the only place the MCU lets virtual time pass."""
        with self.cond:
            self.check()
            self.idle_calls += 1
            clock = self.clock
            deadline = clock.now_us + max(0, timeout_ms) * 1000
            finish = self.steps.next_finish()
            if finish is not None:
                deadline = min(deadline, finish)
            self._idle_deadline = deadline
            try:
                while True:
                    self.check()
                    now = clock.now_us
                    if self.rx or now >= deadline:
                        return
                    if self._stepped:
                        if self._target_us > now:
                            self.advance_to(min(deadline, self._target_us))
                            return
                        self._blocked = True
                        self.cond.notify_all()
                        self.cond.wait()
                        self._blocked = False
                    else:
                        wall = self._wall_us()
                        if wall > now:
                            self.advance_to(min(wall, deadline))
                            if clock.now_us >= deadline:
                                return
                        self.cond.wait((deadline - clock.now_us) / (self._speed * 1e6))
            finally:
                self._idle_deadline = None
                self._blocked = False

    def advance(self, ms, timeout_s):
        """Stepped mode: let the firmware run `ms` of virtual time; return once it
        has reached the target instant and is waiting in idle again."""
        with self.cond:
            if not self._stepped:
                raise SimError("E_MODE", 'advance needs stepped mode (speed "stepped")')
            target = self.clock.now_us + ms * 1000
            self._target_us = target
            self.cond.notify_all()
            give_up = time.monotonic() + timeout_s
            while not (self.clock.now_us >= target and self._blocked):
                if self.closed:
                    raise SimError("E_SHUTDOWN", "simulator is shutting down")
                left = give_up - time.monotonic()
                if left <= 0:
                    raise SimError(
                        "E_TIMEOUT",
                        f"firmware did not reach t={target} us and go idle within {timeout_s:g} s",
                    )
                self.cond.wait(left)

    def wait_quiescent(self, since_boot, timeout_s):
        """Wait until the MCU booted after boot number `since_boot` and reached idle
        (blocked, in stepped mode)."""
        give_up = time.monotonic() + timeout_s
        with self.cond:
            while not (
                self.boots > since_boot
                and self.idle_calls > 0
                and (self._blocked or not self._stepped or self.mcu_state == MCU_OFF)
            ):
                left = give_up - time.monotonic()
                if self.closed or left <= 0:
                    raise SimError(
                        "E_TIMEOUT", f"firmware did not boot and go idle within {timeout_s:g} s"
                    )
                self.cond.wait(left)

    # -- power ---------------------------------------------------------------
    def check(self):
        """Called by every HAL method: a cut power supply stops the firmware here."""
        if self._cut is not None:
            raise self._cut()

    def cut_power(self, exc=PowerLoss):
        with self.cond:
            self._cut = exc
            self.cond.notify_all()

    def power_off(self):
        """The supply is gone: pulses stop, the driver drops, received bytes are lost."""
        with self.cond:
            self.steps.stop()
            self.plant.driver_enabled = False
            self.rx.clear()
            self.mcu_state = MCU_OFF
            self.cond.notify_all()

    def boot(self, cause):
        with self.cond:
            self._cut = None
            self.steps = StepGenerator()
            self.boots += 1
            self.reset_cause = cause
            self.idle_calls = 0
            self.wdt_fed_us = None
            self.mcu_state = MCU_RUNNING
            self.mcu_error = None
            self.cond.notify_all()

    def halt(self, error):
        with self.cond:
            self.mcu_state = MCU_HALTED
            self.mcu_error = error
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    # -- serial receive ------------------------------------------------------
    def receive(self, data):
        """Reader thread: bytes from the host. Blocks while the buffer is full."""
        with self.cond:
            while len(self.rx) >= RX_LIMIT and not self.closed:
                self.cond.wait()
            self.rx += data
            self.cond.notify_all()

    def take_rx(self):
        with self.cond:
            data = bytes(self.rx)
            self.rx.clear()
            self.cond.notify_all()
            return data
