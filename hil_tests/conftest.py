"""HIL harness: the same tests run against the simulator or a real board.

    pytest hil_tests                          # a fresh simulator per test (default)
    pytest hil_tests --dut-runtime micropython
    pytest hil_tests --dut /dev/ttyACM0       # a real board (tests needing a rig skip)
    pytest hil_tests --dut auto --rig 192.168.1.20:7000
    pytest hil_tests --dut-trace trace.txt    # log all serial traffic (pyserial spy://)

`pump` is a connected PumpClient; `rig` is the rig control channel (virtual time,
ground truth, fault injection). Tests that need a rig carry @pytest.mark.rig and
skip where the device under test has none. Each test gets its own simulator, so
tests never depend on each other's state or order and are safe under xdist.
"""

import pytest

from pumphost.client import PumpClient
from pumphost.ports import resolve_port


def pytest_addoption(parser):
    group = parser.getgroup("hil", "hardware-in-the-loop device under test")
    group.addoption("--dut", default="sim",
                    help="sim (default: a fresh simulator per test), auto, or a serial port/URL")
    group.addoption("--dut-runtime", default="cpython", choices=("cpython", "micropython"),
                    help="firmware runtime of the simulator")
    group.addoption("--rig", default=None,
                    help="HOST:PORT of a rig control channel for a real board")
    group.addoption("--dut-trace", default=None, metavar="FILE",
                    help="log every byte on the serial line to FILE (pyserial spy://)")


def pytest_configure(config):
    config.addinivalue_line("markers", "rig: needs a rig control channel (virtual time, truth)")


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

    sim = Simulator(stepped=True, runtime=opt("--dut-runtime"), flash_dir=tmp_path / "flash")
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

    client = RigClient(dut.rig_address)
    yield client
    client.close()


@pytest.fixture
def pump(request, dut):
    url = dut.port
    trace = request.config.getoption("--dut-trace")
    if trace:
        url = f"spy://{url}?file={trace}"
    client = PumpClient(url, timeout=10.0)
    yield client
    client.close()

