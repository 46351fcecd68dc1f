"""A realistic intrathecal baclofen therapy, compressed into virtual time, for the
soak campaign (scripts/campaign_soak.py) and its short version (test_soak.py).

Timeline (day d, device-clock hour h): d0 first fill 18 mL at 50 mcg/mL; d1-d3
screening test boluses 50/75/100 mcg; d3 15:00 basal 100 mcg/day; d5 first refill
to 500 mcg/mL with the reprogram; d6-d9 titration +15 % at most, 24 h or more
apart; d10 a flex schedule; a 25 mcg bolus weekly; refills every 30 days, the
first of them after a refused septum access (needle in the pocket with the
needle-detect input stuck, then with it intact); power cuts on d13, d40, d47
(during a bolus) and d71; every alarm acknowledged when seen. Each day the
firmware's account is checked against the plant; at the end the event log is
read back and every action the soak took must be in it.
"""

import random
from collections import Counter

from therapy import as_volume, aspirate_all, confirm, fill, first_fill, refill, status

from pumphost.errors import PumpError

DAY, HOUR = 86_400_000, 3_600_000
RESERVE_NL = 10_000  # firmware/pump/controller.py RESERVE_NL: write-ahead reservation
FLEX = "00:00@140mcg/day,07:00@180mcg/day,22:00@140mcg/day"


class Soak:
    def __init__(self, pump, rig, days, seed=1):
        self.pump, self.rig, self.days = pump, rig, days
        self.rng = random.Random(seed)
        self.expect = Counter()  # event log kinds this soak caused
        self.cuts = 0
        self.boots_at_fill = rig.call("mcu")["boots"]
        self.first_boots = self.boots_at_fill
        self.refused_access = 0
        self.worst_gap_nl = 0
        self.t0 = rig.call("now")["now_us"] // 1000

    # ---- plumbing ---------------------------------------------------------------
    def at(self, ms):
        """Advance to `ms` after the start (in steps short enough for rig timeouts)."""
        while (now := self.rig.call("now")["now_us"] // 1000 - self.t0) < ms:
            self.rig.call("advance", ms=min(ms - now, 5 * DAY), timeout_s=600)

    def change(self, verb, *words, **args):
        confirm(self.pump, verb, *words, **args)
        self.expect["CONFIRMED"] += 1

    def ack_all(self):
        for row in self.pump.request("ALARMS").rows:
            if row.fields["acked"] == "0":
                self.pump.request("ACK", id=row.fields["id"])
                self.expect["ACK"] += 1

    def check(self):
        """Daily: never empty, and the account never above the plant's truth."""
        s, truth = status(self.pump), self.rig.call("truth")
        assert "RES_EMPTY" not in s["alarms"], s
        gap = round(truth["reservoir_ul"] * 1000) - int(s["reservoir_nl"])
        ustep = truth["ul_per_microstep"] * 1000
        # every restart since the fill (planned cut or not) may cost one reservation
        restarts = self.rig.call("mcu")["boots"] - self.boots_at_fill
        assert 0 <= gap <= restarts * (RESERVE_NL + ustep) + ustep, (gap, s, truth)
        self.worst_gap_nl = max(self.worst_gap_nl, gap)
        self.ack_all()

    # ---- therapy actions ----------------------------------------------------------
    def bolus(self, dose, over):
        self.change("BOLUS", dose=dose, over=over)
        self.expect["BOLUS"] += 1

    def program(self, dose=None, conc="500mcg/mL", flex=None):
        if flex:
            self.change("PROGRAM", "FLEX", conc=conc, steps=flex)
        else:
            self.change("PROGRAM", "CONT", dose=dose, conc=conc)
        self.expect["PROGRAM"] += 1

    def first_fill(self):
        first_fill(self.pump, self.rig, vol="18mL", conc="50mcg/mL")
        self.expect["REFILL"] += 1
        self.expect["CONFIRMED"] += 1

    def refill(self, conc, refused=None):
        pump, rig = self.pump, self.rig
        if refused == "stuck":  # the input fails "present": aspiration must catch it
            rig.call("needle", at="pocket")
            rig.call("needle_detect", stuck=True)
            pump.request("REFILL", "BEGIN")
            self.expect["REFILL_BEGIN"] += 1
            got = aspirate_all(pump, rig)
            self._refused("REFILL", "ASPIRATED", vol=as_volume(got))
            self.expect["SEPTUM_REFUSED"] += 1
            rig.call("needle_detect", stuck=False)
            rig.call("needle", at="septum")
            got = aspirate_all(pump, rig)
            pump.request("REFILL", "ASPIRATED", vol=as_volume(got))
            fill(pump, "18mL", conc, rig)
            rig.call("needle", at="out")
        else:
            if refused == "detect":  # the intact input refuses the pocket at BEGIN
                rig.call("needle", at="pocket")
                self._refused("REFILL", "BEGIN")
            refill(pump, rig, vol="18mL", conc=conc)
            self.expect["REFILL_BEGIN"] += 1
        self.expect["REFILL"] += 1
        self.expect["CONFIRMED"] += 1
        self.boots_at_fill = self.rig.call("mcu")["boots"]

    def _refused(self, *words, **args):
        try:
            self.pump.request(*words, **args)
        except PumpError as err:
            assert err.code == "E_SEPTUM", err
            self.refused_access += 1
            return
        raise AssertionError(f"{words} accepted with the needle in the pocket")

    def power_cut(self):
        self.rig.call("power_cycle")
        self.cuts += 1

    # ---- the timeline -------------------------------------------------------------
    def plan(self):
        """[(ms after start, action)], in time order, cut to self.days."""
        h = HOUR
        p = [(1 * h, self.first_fill)]
        for d, dose in ((1, "50mcg"), (2, "75mcg"), (3, "100mcg")):
            p.append((d * DAY + 9 * h, lambda dose=dose: self.bolus(dose, "1min")))
        p.append((3 * DAY + 15 * h, lambda: self.program("100mcg/day", "50mcg/mL")))
        p.append((3 * DAY + 15 * h + 60_000, lambda: self.change("START")))
        p.append((5 * DAY + 10 * h, lambda: self.refill("500mcg/mL")))
        p.append((5 * DAY + 10 * h + 600_000, lambda: self.program("100mcg/day")))
        for i, dose in enumerate(("115", "130", "145", "160")):
            p.append(((6 + i) * DAY + 11 * h + i * h // 2,
                      lambda dose=dose: self.program(dose + "mcg/day")))  # fmt: skip
        p.append((10 * DAY + 13 * h, lambda: self.program(flex=FLEX)))
        for d in range(12, self.days, 7):
            p.append((d * DAY + 14 * h, lambda: self.bolus("25mcg", "10min")))
        for d, how in ((35, "stuck"), (65, "detect")):
            p.append((d * DAY + 10 * h, lambda how=how: self.refill("500mcg/mL", how)))
        for d in (13, 40, 71):
            p.append((d * DAY + self.rng.randrange(DAY), self.power_cut))
        p.append((47 * DAY + 14 * h + 300_000, self.power_cut))  # mid-bolus
        p += [(d * DAY + 23 * h, self.check) for d in range(1, self.days)]
        return sorted((t, a) for t, a in p if t < self.days * DAY)

    def run(self):
        for when, action in self.plan():
            self.at(when)
            action()
            self.ack_all()
        self.at(self.days * DAY)
        self.check()
        return self.summary()

    # ---- the end --------------------------------------------------------------------
    def log(self):
        rows, since = [], 0
        while True:
            reply = self.pump.request("LOG", since=since, limit=200)
            rows += [r.fields for r in reply.rows]
            if not reply.rows:
                return rows
            since = int(reply.fields["next"])

    def summary(self):
        s, truth, mcu = status(self.pump), self.rig.call("truth"), self.rig.call("mcu")
        rows = self.log()
        seqs = [int(r["seq"]) for r in rows]
        kinds = Counter(r["event"] for r in rows)
        missing = {k: n - kinds[k] for k, n in self.expect.items() if kinds[k] < n}
        return {
            "days": self.days,
            "state": s["state"],
            "alarms_at_end": s["alarms"],
            "reservoir_fw_nl": int(s["reservoir_nl"]),
            "reservoir_truth_nl": round(truth["reservoir_ul"] * 1000),
            "delivered_fw_nl": int(s["delivered_nl"]),
            "delivered_truth_nl": round(truth["delivered_ul"] * 1000),
            "microsteps": truth["microsteps"],
            "worst_daily_gap_nl": self.worst_gap_nl,
            "power_cuts": self.cuts,
            "boots": mcu["boots"],
            "unplanned_restarts": mcu["boots"] - self.first_boots - self.cuts,
            "refused_septum_access": self.refused_access,
            "pocket_fill_ul": truth["pocket_fill_ul"],
            "log_entries": len(rows),
            "log_complete": seqs == list(range(len(rows))),  # from seq 0, no gaps
            "log_events": dict(sorted(kinds.items())),
            "expected_events": dict(sorted(self.expect.items())),
            "missing_events": missing,
            "boot_events_match": kinds["BOOT"] == mcu["boots"],
        }
