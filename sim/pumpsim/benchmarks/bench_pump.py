"""A simulated pump on the bench: started in stepped time with its provisioning
gate held, provisioned with a fresh technician key, logged in and filled, then
driven through PumpClient on its pty.

The steps are the ones hil_tests/therapy.py (`first_fill`, `refill`) and
hil_tests/session.py take; they are restated here because the installed
`pump-sim` cannot import the test suite.
"""

import secrets

from pumphost import auth
from pumphost.client import PumpClient
from pumphost.units import wire_volume

from ..board import load_mechanics
from ..rigclient import RigClient
from ..runtime import DEFAULT_FIRMWARE_DIR
from ..simulator import Simulator

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
PROBE_UL = 2000
TIMEOUT_S = 60.0  # a 24-hour advance on the MicroPython VM takes seconds of wall time


class FirmwareHalted(Exception):
    """The firmware stopped (e.g. MemoryError in a small VM heap); the message is
    the simulator's record of why."""


class BenchPump:
    """`with BenchPump(...) as bp:` a provisioned, logged-in pump with an empty
    reservoir; `bp.client` speaks the protocol, `bp.rig` moves time and drug."""

    def __init__(
        self,
        runtime="cpython",
        delivery_log=None,
        heap_bytes=None,
        heap_sample_every=0,
        firmware_dir=None,
        romfs_image=None,
        client_class=PumpClient,
    ):
        # A firmware_dir of .mpy files (mpyimage.py) has no boards/sim.py to read
        # the mechanics from: those of the source tree are the same.
        mechanics = load_mechanics(DEFAULT_FIRMWARE_DIR) if firmware_dir else None
        self.sim = Simulator(
            firmware_dir,
            stepped=True,
            runtime=runtime,
            provision_gate=True,
            delivery_log=delivery_log,
            mechanics=mechanics,
        )
        if heap_bytes or heap_sample_every or romfs_image:
            # MicroPython runtime options (sim/pumpsim/mpvm.py), read at each boot.
            self.sim.runtime.heap_bytes = heap_bytes
            self.sim.runtime.heap_sample_every = heap_sample_every
            self.sim.runtime.romfs_image = romfs_image
        self._client_class = client_class  # of the logged-in client
        self._key = secrets.token_bytes(32)
        self.client = None
        self.rig = None

    def __enter__(self):
        self.sim.start()
        try:
            self.sim.advance(0)  # boot and go idle at t = 0
            self.check_running()
            with PumpClient(self.sim.pty_path, timeout=TIMEOUT_S) as first:
                first.request("PROVISION", role="tech", key=self._key.hex())
            self.rig = RigClient(self.sim.rig_address)
            # Releasing the gate power-cycles the board, as a jumper and reset would.
            self.rig.call("provision_gate", held=False)
            self.client = self._client_class(self.sim.pty_path, timeout=TIMEOUT_S)
            self.login()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for closable in (self.client, self.rig):
            if closable is not None:
                closable.close()
        self.sim.stop()

    def login(self):
        """A session lapses after 10 idle minutes of device time: log in again
        after every long advance."""
        auth.authenticate(self.pump, "tech", "bench", key=self._key)

    @property
    def pump(self):
        if self.client is None:
            raise RuntimeError("BenchPump used outside its `with` block")
        return self.client

    def confirm(self, verb, *words, **args):
        """Propose a change and confirm it; returns the device's review fields."""
        review = self.pump.request(verb, *words, **args)
        self.pump.request("CONFIRM", token=review.fields["token"])
        return review.fields

    def advance(self, ms):
        self.rig_call("advance", ms=ms)
        self.check_running()
        self.login()

    def check_running(self):
        """Fail at once, rather than after a serial timeout, if the MCU halted."""
        mcu = self.sim.mcu()
        if mcu["state"] == "halted":
            raise FirmwareHalted(mcu["error"])

    def rig_call(self, cmd, **params):
        if self.rig is None:
            raise RuntimeError("BenchPump used outside its `with` block")
        return self.rig.call(cmd, **params)

    def first_fill(self, conc_mcg_ml, fill_ul=18000):
        """Fill the empty reservoir; an empty one needs a probe injection to
        prove septum access (docs/protocol.md, REFILL ASPIRATED)."""
        self.rig_call("needle", at="septum")
        self.pump.request("REFILL", "BEGIN")
        self.rig_call("inject", ul=PROBE_UL, conc_mcg_ml=conc_mcg_ml)
        back = self.rig_call("aspirate", ul=PROBE_UL)["aspirated_ul"]
        self.pump.request("REFILL", "ASPIRATED", vol="0mL", probe=_ml(PROBE_UL), back=_ml(back))
        self._fill(conc_mcg_ml, fill_ul)

    def refill(self, conc_mcg_ml, fill_ul=18000):
        """A routine refill: empty the reservoir through the needle, report what
        came out, fill."""
        self.rig_call("needle", at="septum")
        capacity_ul = int(self.pump.request("STATUS").fields["capacity_nl"]) / 1000
        self.pump.request("REFILL", "BEGIN")
        got = self.rig_call("aspirate", ul=capacity_ul)["aspirated_ul"]
        self.pump.request("REFILL", "ASPIRATED", vol=_ml(got))
        self._fill(conc_mcg_ml, fill_ul)

    def _fill(self, conc_mcg_ml, fill_ul):
        self.rig_call("inject", ul=fill_ul, conc_mcg_ml=conc_mcg_ml)
        conc = f"{conc_mcg_ml}mcg/mL"
        self.confirm("REFILL", "FILL", vol=_ml(fill_ul), conc=conc, conc2=conc)
        self.rig_call("needle", at="out")


def _ml(ul):
    """A rig volume in uL as the protocol's volume, to the nanolitre."""
    return wire_volume(round(ul * 1000))
