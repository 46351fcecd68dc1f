"""Issue 5: the independent delivery monitor stops an over-delivering pump within
its documented margin, cuts the driver and holds for a technician reset."""

import corehal  # noqa: F401  (firmware on sys.path)
from test_therapy_commands import err, filled

from pump.monitor import CHECK_MS, MARGIN_NL

USTEP_PL = 71256


class RunawayHal(corehal.CoreHal):
    """A step generator that emits extra, uncommanded steps while energised
    (a stuck timer or a shorted STEP line), at `extra_per_s`."""

    def __init__(self):
        super().__init__()
        self.extra_per_s = 0
        self.enabled = False
        self._carry = 0

    def driver_enable(self, on):
        self.enabled = on

    def idle(self, timeout_ms):
        before = self.now_us
        super().idle(timeout_ms)
        if self.enabled and self.extra_per_s:
            self._carry += self.extra_per_s * (self.now_us - before)
            self.emitted += self._carry // 1_000_000
            self._carry %= 1_000_000


def test_runaway_is_stopped_within_the_margin_and_needs_a_reset():
    hal = RunawayHal()
    b = filled(hal=hal)
    b.confirm("PROGRAM CONT dose=800mcg/day conc=500mcg/mL")
    b.confirm("START")
    b.run_for(3_600_000_000)
    assert b.ok("STATUS")["state"] == "RUNNING"
    hal.extra_per_s = 50  # 3.6 uL/s of uncommanded delivery
    b.run_for(600_000_000)
    st = b.ok("STATUS")
    assert st["state"] == "FAULT" and "OVER_DELIVERY" in st["alarms"]
    assert not hal.enabled, "the driver must be cut"
    trips = [e for e in b.ctl.log.read(0, 2**40, 0, 10_000) if e[2] == "OVER_DELIVERY"]
    excess_nl = int(trips[0][3]["excess_nl"])
    # 50 steps/s of 71.256 nL, checked at least every CHECK_MS while energised
    assert MARGIN_NL < excess_nl <= MARGIN_NL + 50 * USTEP_PL * CHECK_MS // 1_000_000 + 72
    s_fault = b.hal.emitted
    b.run_for(3_600_000_000)
    assert b.hal.emitted == s_fault, "no delivery after the trip"
    assert err(b, "START")["code"] == "E_STATE"
    assert b.confirm('RESET reason="runaway driver replaced"')["state"] == "STOPPED"


def test_margin_is_far_below_prometra_shut_off():
    # even a runaway at 1000 steps/s (14x the fastest bolus) stays under 10 uL
    assert MARGIN_NL + 1000 * USTEP_PL * CHECK_MS // 1_000_000 < 10_000
