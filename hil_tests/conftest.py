"""HIL harness: the same tests run against the simulator or a real board.

    pytest hil_tests                          # a fresh simulator per test (default)
    pytest hil_tests --dut-runtime micropython
    pytest hil_tests --dut-runtime micropython --dut-romfs   # firmware from a ROMFS image
    pytest hil_tests --dut /dev/ttyACM0       # a real board (tests needing a rig skip)
    pytest hil_tests --dut auto --rig 192.168.1.20:7000
    pytest hil_tests --dut-trace trace.txt    # log all serial traffic (pyserial spy://)

`pump` is a connected PumpClient logged in as a technician (session.TechnicianPump:
it logs in again when the session lapses); `pump_anon` is a connected client with
no session, on the same provisioned pump. On the simulator the pump is provisioned
through its provisioning gate with a fresh random key for each test; a board must
have been provisioned with `pumpctl provision --role tech` from this user's
account (tests needing a session skip otherwise). `rig` is the rig control
channel (virtual time, ground truth, fault injection). Tests that need a rig
carry @pytest.mark.rig and skip where the device under test has none. Each test
gets its own simulator, so tests never depend on each other's state or order
and are safe under xdist.
"""

import secrets

import pytest
from session import TechnicianPump, board_key, provision_sim

from pumphost.client import PumpClient
from pumphost.ports import resolve_port


def pytest_addoption(parser):
    group = parser.getgroup("hil", "hardware-in-the-loop device under test")
    group.addoption(
        "--dut",
        default="sim",
        help="sim (default: a fresh simulator per test), auto, or a serial port/URL",
    )
    group.addoption(
        "--dut-runtime",
        default="cpython",
        choices=("cpython", "micropython"),
        help="firmware runtime of the simulator",
    )
    group.addoption(
        "--dut-romfs",
        action="store_true",
        help="with --dut-runtime micropython: run the firmware from a ROMFS image "
        "of it, as a board with a ROMFS partition does",
    )
    group.addoption(
        "--rig", default=None, help="HOST:PORT of a rig control channel for a real board"
    )
    group.addoption(
        "--dut-trace",
        default=None,
        metavar="FILE",
        help="log every byte on the serial line to FILE (pyserial spy://)",
    )


# The MicroPython VM runs the firmware some 40x slower than CPython: fast-forwarded
# weeks take minutes of wall time there.
SLOW_S = 1800


def pytest_configure(config):
    if config.getoption("--dut-romfs") and config.getoption("--dut-runtime") != "micropython":
        raise pytest.UsageError("--dut-romfs needs --dut-runtime micropython")
    config.addinivalue_line("markers", "rig: needs a rig control channel (virtual time, truth)")
    config.addinivalue_line(
        "markers", "long: fast-forwards weeks of therapy (minutes on the MicroPython VM)"
    )


def pytest_collection_modifyitems(config, items):
    if config.getoption("--dut-runtime") == "micropython":
        for item in items:
            item.add_marker(pytest.mark.timeout(SLOW_S))


class Dut:
    """Where the device under test is and how to reach its rig."""

    def __init__(self, port, rig_address, sim=None):
        self.port = port
        self.rig_address = rig_address
        self.sim = sim


@pytest.fixture
def dut(request, tmp_path):
    opt = request.config.getoption
    if opt("--dut") != "sim":
        yield Dut(resolve_port(opt("--dut")), opt("--rig"))
        return
    from pumpsim.simulator import Simulator

    # Started as a board is commissioned: with the provisioning gate held.
    sim = Simulator(
        stepped=True,
        runtime=opt("--dut-runtime"),
        flash_dir=tmp_path / "flash",
        provision_gate=True,
        romfs=opt("--dut-romfs"),
    )
    sim.start()
    try:
        yield Dut(sim.pty_path, sim.rig_address, sim)
    finally:
        sim.stop()


@pytest.fixture
def rig(request, dut):
    if dut.rig_address is None:
        pytest.skip("the device under test has no rig control channel")
    from pumpsim.rigclient import RigClient

    slow = request.config.getoption("--dut-runtime") == "micropython"
    client = RigClient(dut.rig_address, timeout=SLOW_S if slow else 120.0,
                       advance_timeout_s=SLOW_S if slow else None)
    yield client
    client.close()


TIMEOUT_S = 10.0


@pytest.fixture
def tech_key(dut):
    """The technician key of the device under test (provisioned here on a simulator)."""
    if dut.sim is None:
        key = board_key(dut.port, TIMEOUT_S)
        if key is None:
            pytest.skip("no technician key for this board: `pumpctl provision --role tech`")
        return key
    key = secrets.token_bytes(32)
    provision_sim(dut, key, TIMEOUT_S)
    return key


def _url(request, dut):
    trace = request.config.getoption("--dut-trace")
    return f"spy://{dut.port}?file={trace}" if trace else dut.port


@pytest.fixture
def pump(request, dut, tech_key):
    client = TechnicianPump(_url(request, dut), tech_key, timeout=TIMEOUT_S)
    yield client
    client.close()


@pytest.fixture
def pump_anon(request, dut, tech_key):
    client = PumpClient(_url(request, dut), timeout=TIMEOUT_S)
    yield client
    client.close()
