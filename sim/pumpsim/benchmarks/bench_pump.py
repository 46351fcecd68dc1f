"""A simulated pump on the bench: started in stepped time, commissioned
(pumpsim.commissioned: provisioned with a fresh technician key, logged in) with
an empty reservoir, then driven through a PumpClient on its pty.

The fill and refill steps are the ones of hil_tests/therapy.py (`first_fill`,
`refill`), restated here because the installed `pump-sim` cannot import the
test suite.
"""

from pumphost.units import wire_volume

from ..board import load_mechanics
from ..commissioned import Commissioned, TechnicianPump
from ..runtime import DEFAULT_FIRMWARE_DIR
from ..simulator import Simulator

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
PROBE_UL = 2000
TIMEOUT_S = 60.0  # a 24-hour advance on the MicroPython VM takes seconds of wall time


class FirmwareHalted(Exception):
    """The firmware stopped (e.g. MemoryError in a small VM heap); the message is
    the simulator's record of why."""


class BenchPump(Commissioned):
    """`with BenchPump(...) as bp:` a commissioned pump with an empty reservoir,
    on a simulator of its own; `bp.pump` speaks the protocol (and logs in again
    when an advance let the session lapse), `bp.rig` moves time and drug."""

    def __init__(
        self,
        runtime="cpython",
        delivery_log=None,
        heap_bytes=None,
        heap_sample_every=0,
        firmware_dir=None,
        romfs_image=None,
        client_class=TechnicianPump,
    ):
        # A firmware_dir of .mpy files (mpyimage.py) has no boards/sim.py to read
        # the mechanics from: those of the source tree are the same.
        mechanics = load_mechanics(DEFAULT_FIRMWARE_DIR) if firmware_dir else None
        sim = Simulator(
            firmware_dir,
            stepped=True,
            runtime=runtime,
            provision_gate=True,
            delivery_log=delivery_log,
            mechanics=mechanics,
        )
        if heap_bytes or heap_sample_every or romfs_image:
            # MicroPython runtime options (sim/pumpsim/mpvm.py), read at each boot.
            sim.runtime.heap_bytes = heap_bytes
            sim.runtime.heap_sample_every = heap_sample_every
            sim.runtime.romfs_image = romfs_image
        super().__init__(sim, timeout=TIMEOUT_S, client_class=client_class)

    def __enter__(self):
        self.sim.start()
        try:
            self.sim.advance(0)  # boot and go idle at t = 0
            self.check_running()
            return self.open()
        except BaseException:
            self.sim.stop()
            raise

    def __exit__(self, *exc):
        self.close()
        self.sim.stop()

    def confirm(self, verb, *words, **args):
        """Propose a change and confirm it; returns the device's review fields."""
        review = self.pump.request(verb, *words, **args)
        self.pump.request("CONFIRM", token=review.fields["token"])
        return review.fields

    def advance(self, ms):
        self.rig.call("advance", ms=ms)
        self.check_running()

    def check_running(self):
        """Fail at once, rather than after a serial timeout, if the MCU halted."""
        mcu = self.sim.mcu()
        if mcu["state"] == "halted":
            raise FirmwareHalted(mcu["error"])

    def first_fill(self, conc_mcg_ml, fill_ul=18000):
        """Fill the empty reservoir; an empty one needs a probe injection to
        prove septum access (docs/protocol.md, REFILL ASPIRATED)."""
        self.rig.call("needle", at="septum")
        self.pump.request("REFILL", "BEGIN")
        self.rig.call("inject", ul=PROBE_UL, conc_mcg_ml=conc_mcg_ml)
        back = self.rig.call("aspirate", ul=PROBE_UL)["aspirated_ul"]
        self.pump.request("REFILL", "ASPIRATED", vol="0mL", probe=_ml(PROBE_UL), back=_ml(back))
        self._fill(conc_mcg_ml, fill_ul)

    def refill(self, conc_mcg_ml, fill_ul=18000):
        """A routine refill: empty the reservoir through the needle, report what
        came out, fill."""
        self.rig.call("needle", at="septum")
        capacity_ul = int(self.pump.request("STATUS").fields["capacity_nl"]) / 1000
        self.pump.request("REFILL", "BEGIN")
        got = self.rig.call("aspirate", ul=capacity_ul)["aspirated_ul"]
        self.pump.request("REFILL", "ASPIRATED", vol=_ml(got))
        self._fill(conc_mcg_ml, fill_ul)

    def _fill(self, conc_mcg_ml, fill_ul):
        self.rig.call("inject", ul=fill_ul, conc_mcg_ml=conc_mcg_ml)
        conc = f"{conc_mcg_ml}mcg/mL"
        self.confirm("REFILL", "FILL", vol=_ml(fill_ul), conc=conc, conc2=conc)
        self.rig.call("needle", at="out")


def _ml(ul):
    """A rig volume in uL as the protocol's volume, to the nanolitre."""
    return wire_volume(round(ul * 1000))
