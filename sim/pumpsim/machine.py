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
# The RP2040 boards arm machine.WDT with this timeout (firmware/hal/mcu.py).
DEFAULT_WATCHDOG_MS = 5000
_FOREVER_US = 1 << 62  # a hang with no watchdog armed lasts until power is cut

MCU_OFF = "off"
MCU_RUNNING = "running"
MCU_HALTED = "halted"  # firmware returned or crashed; the clock still runs


class WatchdogReset(PowerLoss):
    """The watchdog bit: the firmware stops at its current HAL call and the MCU
    resets with reset cause `watchdog`."""


class Machine:
    def __init__(
        self,
        clock,
        plant,
        flash,
        speed=1.0,
        stepped=False,
        delivery_log=None,
        watchdog_ms=DEFAULT_WATCHDOG_MS,
    ):
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
        # Watchdog (see `idle`): None/0 disables it. It is armed by the
        # firmware's first feed after boot, as enabling machine.WDT arms it.
        self.watchdog_us = watchdog_ms * 1000 if watchdog_ms else None
        self._wdt_kick_us = None  # when its counter last restarted; None: not armed
        self._fed_since_idle = False
        # Rig faults (docs/rig.md, "Faults")
        self._hang_armed = False  # the next HAL call blocks for ever
        self.hung = False
        self.runaway_sps = 0  # uncommanded STEP pulses per second while enabled
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
        before = self.clock.now_us
        if t_us > before:
            self.clock.advance_to(t_us)
            self.collect_steps()
            self._runaway(before, t_us)

    def _runaway(self, t0, t1):
        """Uncommanded pulses in (t0, t1]: a stuck timer or shorted STEP line.

        They sit on a fixed grid of absolute virtual time (pulse k at
        ceil(k * 1e6 / rate) us), so how time was cut into advances changes
        nothing. The driver's enable state cannot change while time moves (the
        firmware runs only at frozen instants), so it holds for the whole span."""
        rate = self.runaway_sps
        if not rate or not self.plant.driver_enabled:
            return
        first, last = t0 * rate // 1_000_000 + 1, t1 * rate // 1_000_000
        if last < first:
            return
        self.steps.add_uncommanded(last - first + 1)
        plant, log = self.plant, self.delivery_log
        if log is None:
            plant.pulse(last - first + 1)
            return
        for k in range(first, last + 1):
            if plant.pulse(1):
                log.row(-(-k * 1_000_000 // rate), plant.microsteps, plant.delivered_ul)

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
        """The HAL's idle: the only place the MCU lets virtual time pass.

        Watchdog model: a board HAL sleeps in chunks shorter than the watchdog
        timeout and feeds it between them, but only if the control loop fed it
        since the previous idle (the loop is healthy); firmware/hal must do the
        same, since the core may sleep 60 s. So a healthy loop may sleep as long
        as it likes, while a loop that stopped feeding, a crashed (halted) MCU or
        a hung HAL call is bitten `watchdog_ms` after the last feed."""
        with self.cond:
            self._check_power()
            self.idle_calls += 1
            healthy = self._fed_since_idle
            self._fed_since_idle = False
            deadline = self.clock.now_us + max(0, timeout_ms) * 1000
            finish = self.steps.next_finish()
            if finish is not None:
                deadline = min(deadline, finish)
            self._sleep(deadline, None if healthy else self._bite_at(), early=True)
            if healthy and self._wdt_kick_us is not None:
                self._wdt_kick_us = self.clock.now_us

    def _bite_at(self):
        if self.watchdog_us is None or self._wdt_kick_us is None:
            return None
        return self._wdt_kick_us + self.watchdog_us

    def _sleep(self, deadline, bite, early):
        """Let virtual time run until `deadline` (or a received byte), raising
        WatchdogReset at `bite`. `early`: idle's semantics (also return when the
        rig's advance target or the wall clock is reached); otherwise (a hang)
        keep waiting. Lock held."""
        clock = self.clock
        stop = deadline if bite is None else min(deadline, bite)
        self._idle_deadline = stop
        try:
            while True:
                self._check_power()
                now = clock.now_us
                if bite is not None and now >= bite:
                    raise WatchdogReset()
                if (early and self.rx) or now >= deadline:
                    return
                if self._stepped:
                    if self._target_us > now:
                        self.advance_to(min(stop, self._target_us))
                        if early:
                            return
                        continue
                    self._blocked = True
                    self.cond.notify_all()
                    self.cond.wait()
                    self._blocked = False
                else:
                    wall = self._wall_us()
                    if wall > now:
                        self.advance_to(min(wall, stop))
                        if clock.now_us >= stop:
                            continue
                    self.cond.wait(min(3600.0, (stop - clock.now_us) / (self._speed * 1e6)))
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
        """Called by every HAL method: a cut power supply stops the firmware here,
        and an injected hang blocks it here while virtual time runs on."""
        self._check_power()
        if self._hang_armed:
            with self.cond:
                self._hang_armed = False
                self.hung = True
                self._sleep(_FOREVER_US, self._bite_at(), early=False)

    def _check_power(self):
        if self._cut is not None:
            raise self._cut()

    # -- watchdog and faults -------------------------------------------------
    def wdt_feed(self):
        """Lock held."""
        self.wdt_fed_us = self._wdt_kick_us = self.clock.now_us
        self._fed_since_idle = True

    def arm_hang(self):
        with self.cond:
            self._hang_armed = True
            self.cond.notify_all()

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
            self._wdt_kick_us = None
            self._fed_since_idle = False
            self.hung = False
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
