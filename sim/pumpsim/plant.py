"""Physical plant: stepper motor, lead screw, syringe plunger, reservoir and the
refill needle.

Ground truth is computed here in floating point from the mechanics, on purpose
independently of the firmware's integer picolitre arithmetic, so the two can be
compared. Counters are integers (microsteps); volumes are derived from them so
they do not accumulate float rounding over a long run.

The reservoir is the syringe. Its contents fall with every microstep the
plunger moves and change through the refill needle: in the reservoir septum it
withdraws and adds drug; in the subcutaneous pocket it withdraws only a little
tissue fluid, and what is injected there reaches the patient at once (a pocket
fill, the refill error that kills).
"""

import math

from .errors import SimError

# Where the refill needle tip is.
NEEDLE_OUT = "out"
NEEDLE_SEPTUM = "septum"
NEEDLE_POCKET = "pocket"
NEEDLE_POSITIONS = (NEEDLE_OUT, NEEDLE_SEPTUM, NEEDLE_POCKET)

# What a syringe pulls out of the subcutaneous pocket: a little tissue fluid,
# fixed so runs stay reproducible, and well under any refill tolerance.
POCKET_FLUID_UL = 3.0


def true_ul_per_microstep(mech):
    """Exact volume one microstep displaces, in microlitres (1 uL = 1e9 um^3)."""
    bore_um = mech["syringe_id_um"]
    area_um2 = math.pi * bore_um * bore_um / 4.0
    travel_um = mech["lead_um"] / (mech["steps_per_rev"] * mech["microsteps"])
    return area_um2 * travel_um / 1e9


class Plant:
    """Syringe driven by the stepper. Pulses only move it while the driver is
    enabled; once the reservoir is empty the plunger is at its stop and further
    pulses are lost (the motor stalls).

    The reservoir starts empty, as a pump leaves the factory; `reservoir_ul`
    starts it holding that much (of unknown concentration, 0)."""

    def __init__(self, mech, reservoir_ul=None, error_ppm=0):
        self.mech = dict(mech)
        self.ul_per_microstep = true_ul_per_microstep(mech)
        self.um_per_microstep = mech["lead_um"] / (mech["steps_per_rev"] * mech["microsteps"])
        self.capacity_ul = mech["capacity_nl"] / 1000.0
        start_ul = 0.0 if reservoir_ul is None else float(reservoir_ul)
        if not 0.0 <= start_ul <= self.capacity_ul:
            raise ValueError(f"reservoir_ul must be 0-{self.capacity_ul:g}")
        self.driver_enabled = False
        self.pulses = 0  # every STEP pulse received, moved or not
        self.microsteps = 0  # microsteps the plunger actually moved
        self.lost_pulses = 0  # pulses while enabled that could not move it
        self.needle = NEEDLE_OUT
        # Fault injection: the needle-detect input stuck at "present", so only
        # the volume check can catch a needle in the pocket.
        self.detect_stuck = False
        self.forced_stall = False  # fault injection (issue 5)
        self.occluded = False  # fault injection (issue 5)
        # Delivered volume is a sum of spans of constant error factor, so a
        # factor change mid-run does not rewrite the past.
        self._error_ppm = error_ppm
        self._span_start_steps = 0
        self._span_base_ul = 0.0
        # Contents = stock - delivered: the needle moves the stock, the motor
        # moves delivered, and neither has to rewrite the other.
        self._stock_ul = start_ul
        self.conc_mcg_ml = 0.0  # of the reservoir's (well mixed) contents; 0: unknown
        self.pocket_fill_ul = 0.0
        self.pocket_fill_mcg = 0.0
        self.events = []  # every aspiration and injection, in order

    # -- error factor ------------------------------------------------------
    @property
    def error_ppm(self):
        return self._error_ppm

    @error_ppm.setter
    def error_ppm(self, ppm):
        self._span_base_ul = self.delivered_ul
        self._span_start_steps = self.microsteps
        self._error_ppm = ppm

    def _ul_per_step_delivered(self):
        return self.ul_per_microstep * (1.0 + self._error_ppm / 1e6)

    # -- state ---------------------------------------------------------------
    @property
    def delivered_ul(self):
        return (
            self._span_base_ul
            + (self.microsteps - self._span_start_steps) * self._ul_per_step_delivered()
        )

    @property
    def reservoir_ul(self):
        return max(0.0, self._stock_ul - self.delivered_ul)

    def _set_contents(self, ul):
        self._stock_ul = self.delivered_ul + ul

    @property
    def plunger_um(self):
        """Distance of the plunger from its full position (0: full reservoir;
        capacity / bore area: at its stop, empty). Filling pushes it back, so it
        follows the contents through the mechanics' nominal bore, not the motor's
        travel."""
        ul_per_um = self.ul_per_microstep / self.um_per_microstep
        return (self.capacity_ul - self.reservoir_ul) / ul_per_um

    @property
    def needle_detected(self):
        """What the board's septum needle-detect input reads."""
        return self.detect_stuck or self.needle == NEEDLE_SEPTUM

    @property
    def at_end(self):
        # Less than one more microstep's volume left: the plunger is at its stop.
        return self.reservoir_ul < self._ul_per_step_delivered() * (1 - 1e-9)

    @property
    def stalled(self):
        return self.forced_stall or self.occluded or self.at_end

    # -- motion --------------------------------------------------------------
    def _movable(self, n):
        """How many of `n` enabled pulses can move the plunger before the reservoir is empty."""
        if self.forced_stall or self.occluded:
            return 0
        left = self.reservoir_ul / self._ul_per_step_delivered()
        return min(n, max(0, math.floor(left + 1e-9)))

    def pulse(self, n):
        """Receive `n` STEP pulses; returns how many moved the plunger."""
        self.pulses += n
        if not self.driver_enabled or n <= 0:
            return 0
        moved = self._movable(n)
        self.microsteps += moved
        self.lost_pulses += n - moved
        return moved

    # -- the refill needle ---------------------------------------------------------
    def _needle_in(self):
        if self.needle == NEEDLE_OUT:
            raise SimError("E_NEEDLE", "the refill needle is out: place it first (needle)")

    def aspirate(self, ul, now_us):
        """Pull up to `ul` through the needle; returns the volume that came out.
        The septum gives the reservoir's contents, the pocket only tissue fluid."""
        self._needle_in()
        if self.needle == NEEDLE_SEPTUM:
            got = min(ul, self.reservoir_ul)
            self._set_contents(self.reservoir_ul - got)
        else:
            got = min(ul, POCKET_FLUID_UL)
        self.events.append(
            {"event": "aspirate", "needle": self.needle, "ul": got, "now_us": now_us}
        )
        return got

    def inject(self, ul, conc_mcg_ml, now_us):
        """Push `ul` of drug at `conc_mcg_ml` through the needle: into the reservoir
        (refused beyond its capacity, nothing changes) or, from the pocket, into
        the patient."""
        self._needle_in()
        event = {
            "event": "inject",
            "needle": self.needle,
            "ul": ul,
            "conc_mcg_ml": conc_mcg_ml,
            "now_us": now_us,
        }
        if self.needle == NEEDLE_SEPTUM:
            have = self.reservoir_ul
            if have + ul > self.capacity_ul * (1 + 1e-9):
                raise SimError(
                    "E_OVERFILL",
                    f"{ul:g} uL does not fit: the reservoir holds {have:.3f} of "
                    f"{self.capacity_ul:g} uL",
                )
            self.conc_mcg_ml = (have * self.conc_mcg_ml + ul * conc_mcg_ml) / (have + ul)
            self._set_contents(have + ul)
        else:
            event["event"] = "pocket_fill"
            event["mcg"] = ul * conc_mcg_ml / 1000.0
            self.pocket_fill_ul += ul
            self.pocket_fill_mcg += event["mcg"]
        self.events.append(event)
        return event

    def truth(self):
        return {
            "pulses": self.pulses,
            "microsteps": self.microsteps,
            "lost_pulses": self.lost_pulses,
            "delivered_ul": self.delivered_ul,
            "plunger_um": self.plunger_um,
            "reservoir_ul": self.reservoir_ul,
            "reservoir_conc_mcg_ml": self.conc_mcg_ml,
            "ul_per_microstep": self.ul_per_microstep,
            "error_ppm": self._error_ppm,
            "driver_enabled": self.driver_enabled,
            "stalled": self.stalled,
            "needle": self.needle,
            "needle_detected": self.needle_detected,
            "pocket_fill_ul": self.pocket_fill_ul,
            "pocket_fill_mcg": self.pocket_fill_mcg,
            "events": [dict(e) for e in self.events],
        }
