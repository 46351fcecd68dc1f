"""`pump-sim --runtime micropython`: the unmodified firmware files on the real
MicroPython VM (WASI build under wasmtime), through firmware/hal/wasi.py, with
the simulator's HAL, plant and pty unchanged. The same serial script gives the
same ground truth as the CPython runtime, to the microstep; so does the
firmware run from a ROMFS image (`Simulator(romfs=True)`, `pump-sim --romfs`)."""

import binascii
import shutil

import pytest
import serial
from corehal import TECH_KEY, auth_mac

from pumphost import logexport
from pumphost.client import PumpClient
from pumpsim import Simulator
from pumpsim.cli import main as pump_sim
from pumpsim.rigclient import RigClient
from pumpsim.romfs import RomfsBuildError
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class Line:
    """The pty as a technician's terminal: one request line, its final reply."""

    def __init__(self, sim):
        self.port = serial.Serial(sim.pty_path, timeout=10, exclusive=True)
        self.pushed = []  # unsolicited "!" lines seen so far

    def ask(self, text):
        self.port.write(text.encode() + b"\r\n")
        while True:
            raw = self.port.readline()
            assert raw.endswith(b"\r\n"), f"no reply to {text!r}: {raw!r}"
            body, crc = raw[:-2].rsplit(b" *", 1)
            assert int(crc, 16) == binascii.crc_hqx(body, 0xFFFF), raw
            line = body.decode()
            if not line.startswith("!"):
                return line
            self.pushed.append(line)

    def ok(self, text):
        reply = self.ask(text)
        assert reply.startswith("OK"), (text, reply)
        return dict(w.split("=", 1) for w in reply.split()[1:] if "=" in w)

    def confirm(self, text):
        return self.ok("CONFIRM token=" + self.ok(text)["token"])

    def close(self):
        self.port.close()


def log_in(line):
    """Provision a technician key (the simulator holds the provisioning gate)
    and log in: the firmware checks the HMAC with its own SHA-256 on the VM."""
    line.ok("PROVISION role=tech key=" + TECH_KEY)
    challenge = line.ok("AUTH CHALLENGE")
    mac = auth_mac(TECH_KEY, challenge["id"], challenge["nonce"], "tech", "sim")
    line.ok(f"AUTH RESPONSE role=tech user=sim mac={mac}")


def fill_and_start(sim, line):
    """First fill of the (physically empty) reservoir, as a technician does it:
    needle in the septum (the needle-detect input must see it), a 2 mL probe
    injected and drawn back, then 18 mL; then a continuous programme. Every
    change is confirmed by its token."""
    log_in(line)
    with RigClient(sim.rig_address) as rig:
        rig.call("needle", at="septum")
        line.ok("REFILL BEGIN")
        rig.call("inject", ul=2000, conc_mcg_ml=500)
        assert rig.call("aspirate", ul=2000)["aspirated_ul"] == 2000
        line.ok("REFILL ASPIRATED vol=0mL probe=2mL back=2mL")
        rig.call("inject", ul=18000, conc_mcg_ml=500)
        line.confirm("REFILL FILL vol=18mL conc=500mcg/mL conc2=500mcg/mL")
        rig.call("needle", at="out")
    line.confirm("PROGRAM CONT dose=100mcg/day conc=500mcg/mL")
    assert line.confirm("START")["state"] == "RUNNING"


def start_sim(runtime, flash_dir, romfs=False):
    return Simulator(
        stepped=True, runtime=runtime, flash_dir=flash_dir, provision_gate=True, romfs=romfs
    )


def basal_day(runtime, tmp_path, ms=DAY_MS, romfs=False):
    """Fill, start the programme and run `ms` (a day): the plant's microsteps."""
    with start_sim(runtime, tmp_path / f"{runtime}-romfs{romfs}", romfs) as sim:
        line = Line(sim)
        try:
            fill_and_start(sim, line)
            sim.advance(ms, timeout_s=120)
            return sim.truth()["microsteps"], sim.mcu()
        finally:
            line.close()


@pytest.fixture
def mp_sim(tmp_path):
    with start_sim("micropython", tmp_path / "flash") as sim:
        yield sim


def test_version_and_status_answer_with_a_check_value(mp_sim):
    line = Line(mp_sim)
    try:
        version = line.ok("VERSION")
        assert version["board"] == "sim" and version["fw"]
        status = line.ok("STATUS")
        assert status["state"] == "STOPPED" and status["program"] == "NONE"
        assert status["reservoir_nl"] == "0"
        assert any("event=BOOT" in p for p in line.pushed)
    finally:
        line.close()
    mcu = mp_sim.mcu()
    assert mcu["state"] == "running" and mcu["runtime"]["runtime"] == "micropython"


def test_power_cycle_reboots_the_vm_and_raises_restarted(mp_sim):
    line = Line(mp_sim)
    try:
        fill_and_start(mp_sim, line)
        mp_sim.advance(60_000)
        mp_sim.power_cycle()
        assert mp_sim.mcu()["boots"] == 2 and mp_sim.mcu()["runtime"]["boots"] == 2
        assert line.ok("VERSION")["board"] == "sim"
        status = line.ok("STATUS")
        assert "RESTARTED" in status["alarms"].split(",")
        assert status["state"] == "RUNNING"
    finally:
        line.close()


def test_a_basal_day_delivers_the_same_microsteps_on_both_runtimes(tmp_path):
    cpython, _ = basal_day("cpython", tmp_path)
    micropython, mcu = basal_day("micropython", tmp_path)
    assert cpython > 0
    assert micropython == cpython
    fuel = mcu["runtime"]
    assert fuel["loop_iterations"] > 0 and fuel["fuel_per_loop_mean"] > 0


# Stand-in main.py: a SimHAL exception reaches the firmware as the same
# exception on the VM; an uncaught one halts the MCU with the VM's message.
CRASHING_MAIN = """
def run(hal):
    try:
        hal.fs_rename("absent", "other")
    except OSError as e:
        hal.serial_write("OSError %d %s\\n" % (e.args[0], hal.fs_read("absent")))
    1 // 0
"""


def test_hal_exceptions_cross_and_a_crash_halts_the_mcu(tmp_path):
    fw = tmp_path / "fw"
    shutil.copytree(DEFAULT_FIRMWARE_DIR, fw, ignore=shutil.ignore_patterns("__pycache__"))
    (fw / "main.py").write_text(CRASHING_MAIN)
    with Simulator(fw, stepped=True, runtime="micropython", flash_dir=tmp_path / "f") as sim:
        with serial.Serial(sim.pty_path, timeout=10) as port:
            assert port.readline() == b"OSError 2 None\n"
        sim.machine.wait_quiescent(0, timeout_s=10)
        mcu = sim.mcu()
    assert mcu["state"] == "halted"
    assert mcu["error"] == "FirmwareCrash: ZeroDivisionError: divide by zero"


# -- ROMFS: the firmware as a board with a ROMFS partition holds it ------------

# Stand-in main.py: says where the VM found it and a firmware module.
WHERE_MAIN = """
import pump.crc

def run(hal):
    hal.serial_write("%s %s\\n" % (__file__, pump.crc.__file__))
"""


def test_romfs_modules_are_imported_from_the_image_at_rom(tmp_path):
    fw = tmp_path / "fw"
    shutil.copytree(DEFAULT_FIRMWARE_DIR, fw, ignore=shutil.ignore_patterns("__pycache__"))
    (fw / "main.py").write_text(WHERE_MAIN)
    sim = Simulator(fw, stepped=True, runtime="micropython", flash_dir=tmp_path / "f", romfs=True)
    with sim:
        image = sim.runtime.romfs_image
        assert image.is_file()
        with serial.Serial(sim.pty_path, timeout=10) as port:
            assert port.readline() == b"/rom/main.mpy /rom/pump/crc.mpy\n"
    assert not image.exists()  # the image's temporary directory goes on stop


def boot_vm(tmp_path, romfs):
    """VM stats of a boot that answered STATUS, once idle: live heap peak
    (collected at every idle) and fuel so far."""
    sim = start_sim("micropython", tmp_path / f"heap-romfs{romfs}", romfs)
    sim.runtime.heap_sample_every = 1
    with sim:
        line = Line(sim)
        try:
            assert line.ok("STATUS")["state"] == "STOPPED"
        finally:
            line.close()
        sim.advance(0)  # at idle: the heap was sampled just before
        return sim.mcu()["runtime"]


def test_romfs_answers_status_with_the_bytecode_out_of_the_heap(tmp_path):
    # From source the VM compiles every module into its heap; from the image
    # the bytecode runs in place (about 38 kB live against 75 kB), and the
    # boot does no compiling (about a fifth of the fuel).
    source = boot_vm(tmp_path, romfs=False)
    romfs = boot_vm(tmp_path, romfs=True)
    assert 0 < romfs["heap_live_peak"] < source["heap_live_peak"] * 0.7, (romfs, source)
    assert 0 < romfs["fuel_total"] < source["fuel_total"] // 2, (romfs, source)


def test_romfs_hours_deliver_the_same_microsteps_as_cpython(tmp_path):
    cpython, _ = basal_day("cpython", tmp_path, ms=6 * HOUR_MS)
    romfs, mcu = basal_day("micropython", tmp_path, ms=6 * HOUR_MS, romfs=True)
    assert cpython > 0
    assert romfs == cpython
    assert mcu["runtime"]["loop_iterations"] > 0


def test_romfs_needs_the_micropython_runtime(capsys):
    with pytest.raises(ValueError, match="romfs needs the micropython runtime"):
        Simulator(stepped=True, runtime="cpython", romfs=True)
    for argv in (["--romfs"], ["--romfs", "--runtime", "cpython", "--fleet", "2"]):
        assert pump_sim(argv) == 2
        assert capsys.readouterr().err == "pump-sim: --romfs needs --runtime micropython\n"


def test_a_file_that_does_not_compile_is_a_clear_romfs_error(tmp_path):
    fw = tmp_path / "fw"
    shutil.copytree(DEFAULT_FIRMWARE_DIR, fw, ignore=shutil.ignore_patterns("__pycache__"))
    (fw / "pump" / "broken.py").write_text("def f(:\n")
    sim = Simulator(fw, stepped=True, runtime="micropython", flash_dir=tmp_path / "f", romfs=True)
    with pytest.raises(RomfsBuildError, match=r"broken\.py.*SyntaxError"):
        sim.start()
    assert sim.stopped.is_set()


def test_a_full_event_log_exports_twice_on_the_vm(tmp_path):
    # Automatic collection is off on the VM and one page of export makes hundreds
    # of kB of garbage: the HAL must collect often enough (firmware/hal/wasi.py),
    # and the boot, which reads every log segment, must have room after the
    # imports. A 90-day soak found both wanting.
    flash = tmp_path / "flash"
    with start_sim("cpython", flash) as sim:
        line = Line(sim)
        log_in(line)
        for i in range(1200):  # each one a CLOCK_SET entry: the ring wraps
            line.ok(f"CLOCK SET rtc_s={1_800_000_000 + i}")
        line.close()
    with (
        Simulator(stepped=True, runtime="micropython", flash_dir=flash) as sim,
        PumpClient(sim.pty_path, timeout=10) as client,
    ):
        # page by page, as pumpctl log does (LOG is open to anyone)
        first = len(list(logexport.fetch(client)))
        assert first >= 1024  # docs/protocol.md: the ring keeps at least 1024 entries
        assert len(list(logexport.fetch(client))) >= first
        assert sim.mcu()["state"] == "running"
