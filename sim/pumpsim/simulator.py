"""Simulator: wires clock, plant, flash, step generator, serial pty, rig channel
and the firmware runtime together, and runs the firmware in its MCU thread.

Usable in-process (tests, benches):

    with Simulator(stepped=True) as sim:
        serial.Serial(sim.pty_path) ...
        sim.advance(60_000)
        sim.truth()["delivered_ul"]
"""

import json
import os
import sys
import tempfile
import threading
import traceback
from pathlib import Path

from . import __version__
from .board import board_mechanics, resolve_mechanics
from .clock import DEFAULT_EPOCH_S, VirtualClock, format_seconds
from .deliverylog import DeliveryLog
from .errors import PowerLoss, SimulatorShutdown
from .flash import Flash
from .hal import SimHAL
from .machine import DEFAULT_WATCHDOG_MS, Machine, WatchdogReset
from .plant import Plant
from .rig import Rig, RigServer
from .romfs import build_romfs_image
from .runtime import DEFAULT_FIRMWARE_DIR, make_runtime
from .serialport import PtyLine

# How long a halted MCU (firmware returned or crashed) sleeps per idle call.
_HALT_IDLE_MS = 3_600_000
_STOP_TIMEOUT_S = 10.0


class Simulator:
    version = __version__

    def __init__(
        self,
        firmware_dir=None,
        *,
        flash_dir=None,
        speed=1.0,
        stepped=False,
        epoch_s=DEFAULT_EPOCH_S,
        delivery_log=None,
        rig_port=0,
        info_file=None,
        runtime="cpython",
        mechanics=None,
        plant_error_ppm=0,
        reservoir_ul=None,
        provision_gate=False,
        watchdog_ms=DEFAULT_WATCHDOG_MS,
        romfs=False,
    ):
        """`mechanics` (complete, as `board.load_mechanics` returns) defaults to
        the firmware directory's boards/sim.py, validated by its pump/mechanics.py;
        `info_file` None writes none (the CLI passes the well-known path);
        `flash_dir` None uses a fresh temporary directory removed on stop;
        `romfs` (micropython runtime only) runs the firmware from a ROMFS image
        of the firmware directory (romfs.py), built at start into a temporary
        directory removed on stop, as a board with a ROMFS partition runs it."""
        if not stepped and not speed > 0:
            raise ValueError("speed must be > 0")
        self.firmware_dir = Path(firmware_dir or DEFAULT_FIRMWARE_DIR).resolve()
        self.runtime = make_runtime(runtime, self.firmware_dir)
        if romfs and self.runtime.name != "micropython":
            raise ValueError(
                f"romfs needs the micropython runtime (a ROMFS image is the MicroPython "
                f"VM's), not {self.runtime.name}"
            )
        self.romfs = bool(romfs)
        self._tmp_romfs = None
        if mechanics is None:
            board_mech = board_mechanics(self.firmware_dir)
            mechanics = resolve_mechanics(self.firmware_dir, board_mech)
        else:
            board_mech = dict(mechanics)
        self._tmp_flash = None
        if flash_dir is None:
            self._tmp_flash = tempfile.TemporaryDirectory(prefix="pump-sim-flash-")
            flash_dir = self._tmp_flash.name
        self.clock = VirtualClock(epoch_s)
        self.plant = Plant(mechanics, reservoir_ul=reservoir_ul, error_ppm=plant_error_ppm)
        self.flash = Flash(flash_dir)
        self.delivery_log = DeliveryLog(delivery_log) if delivery_log else None
        self.machine = Machine(
            self.clock,
            self.plant,
            self.flash,
            speed=speed,
            stepped=stepped,
            delivery_log=self.delivery_log,
            watchdog_ms=watchdog_ms,
        )
        self.serial = PtyLine()
        self.hal = SimHAL(self.machine, self.serial, board_mech, provision_gate=provision_gate)
        self.rig = Rig(self)
        self._rig_server = RigServer(self.rig, rig_port)
        self.info_file = Path(info_file) if info_file else None
        self._mcu_thread = None
        self._started = False
        self._stop_lock = threading.Lock()
        self.stopped = threading.Event()

    # -- addresses -------------------------------------------------------------
    @property
    def pty_path(self):
        return self.serial.path

    @property
    def rig_address(self):
        """ "127.0.0.1:PORT", as in the info file and RigClient."""
        return self._rig_server.address

    # -- lifecycle -------------------------------------------------------------
    def start(self):
        try:
            self.runtime.load()
            if self.romfs:
                self._build_romfs()
        except BaseException:
            self.stop()
            raise
        self.serial.start(self.machine.receive)
        self._rig_server.start()
        self._mcu_thread = threading.Thread(target=self._mcu_main, name="pump-sim-mcu", daemon=True)
        self._mcu_thread.start()
        self._started = True
        if self.info_file:
            self._write_info(self.info_file)
        return self

    def stop(self):
        """Cut power for good and release everything. Idempotent, any thread."""
        with self._stop_lock:
            if self.stopped.is_set():
                return
            self.machine.cut_power(SimulatorShutdown)
            self.machine.close()
            if self._mcu_thread is not None:
                self._mcu_thread.join(_STOP_TIMEOUT_S)
            self._rig_server.stop()
            self.serial.close()
            if self.delivery_log:
                self.delivery_log.close()
            self._remove_info()
            if self._tmp_flash is not None:
                self._tmp_flash.cleanup()
            if self._tmp_romfs is not None:
                self._tmp_romfs.cleanup()
            self.stopped.set()

    def request_stop(self):
        """Stop from a thread that must not wait for it (the rig's shutdown)."""
        threading.Thread(target=self.stop, name="pump-sim-stop", daemon=True).start()

    def _build_romfs(self):
        """Once, before the first boot: every boot maps the same image, as a
        board's ROMFS partition stays put across resets."""
        self._tmp_romfs = tempfile.TemporaryDirectory(prefix="pump-sim-romfs-")
        image = Path(self._tmp_romfs.name) / "firmware.romfs"
        build_romfs_image(image, self.firmware_dir)
        self.runtime.romfs_image = image

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _write_info(self, path):
        info = {"pty": self.pty_path, "rig": self.rig_address, "pid": os.getpid()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info) + "\n")
        os.replace(tmp, path)

    def _remove_info(self):
        # Only our own: another simulator may have announced itself since.
        if not self.info_file:
            return
        try:
            if json.loads(self.info_file.read_text()).get("pid") == os.getpid():
                self.info_file.unlink()
        except (OSError, ValueError):
            pass

    # -- the MCU -----------------------------------------------------------------
    def _mcu_main(self):
        machine, hal = self.machine, self.hal
        cause = "power_on"
        while True:
            machine.boot(cause)
            try:
                try:
                    self.runtime.run(hal)
                    machine.halt("firmware returned from run()")
                except Exception as exc:  # a firmware crash halts the MCU, like a board would
                    traceback.print_exc(file=sys.stderr)
                    machine.halt(f"{type(exc).__name__}: {exc}")
                while True:  # halted CPU: the clock runs on, input is dropped
                    hal.idle(_HALT_IDLE_MS)
                    hal.serial_read()
            except SimulatorShutdown:
                machine.power_off()
                return
            except WatchdogReset:
                machine.power_off()
                cause = "watchdog"
            except PowerLoss:
                machine.power_off()
                cause = "power_on"

    # -- operations (the rig's commands use these) -------------------------------
    def advance(self, ms, timeout_s=60.0):
        """Stepped mode: run the firmware for `ms` virtual milliseconds."""
        self.machine.advance(ms, timeout_s)

    def set_speed(self, speed):
        """A positive multiple of wall time, or None for stepped mode."""
        if speed is not None and not speed > 0:
            raise ValueError("speed must be > 0")
        self.machine.set_speed(speed)

    def power_cycle(self, timeout_s=30.0):
        """Cut power at the current instant and reboot; returns once the new boot is idle."""
        machine = self.machine
        with machine.cond:
            boots = machine.boots
        machine.cut_power()
        machine.wait_quiescent(boots, timeout_s)

    def now(self):
        machine = self.machine
        with machine.cond:
            machine.sync()
            clock = self.clock
            return {
                "now_us": clock.now_us,
                "t_s": format_seconds(clock.now_us),
                "ticks_us": clock.ticks_us(),
                "ticks_ms": clock.ticks_ms(),
                "rtc_s": clock.rtc_s(),
                "mode": machine.mode(),
                "speed": machine.speed,
            }

    def truth(self):
        machine = self.machine
        with machine.cond:
            machine.sync()
            data = self.plant.truth()
            data["now_us"] = self.clock.now_us
            return data

    def mcu(self):
        machine = self.machine
        with machine.cond:
            machine.sync()
            return {
                "state": machine.mcu_state,
                "error": machine.mcu_error,
                "boots": machine.boots,
                "reset_cause": machine.reset_cause,
                "step_count": machine.steps.emitted(),
                "step_pending": machine.steps.pending(),
                "wdt_fed_us": machine.wdt_fed_us,
                "watchdog_ms": (machine.watchdog_us or 0) // 1000,
                "hung": machine.hung,
                "serial_dropped": self.serial.dropped,
                "now_us": self.clock.now_us,
                "runtime": self.runtime.stats(),
            }
