"""Power-cut campaign (issue 5): a flex programme with boluses and a refill
half-way, run for days of virtual time on the simulator, with power cut at
random instants -- plain cuts and torn flash writes of a random length -- and
every restart checked against the plant's ground truth.

    .venv/bin/python scripts/campaign_powercut.py --cuts 500 --days 7 --seed 1

Prints a JSON summary and writes it to out/campaigns/powercut.json. Seeded and
stepped, so the same arguments give the same figures. The checks after every
cut, and the reservoir bound they use, are those of docs/safety-case.md.
"""

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "hil_tests"))

from therapy import confirm, first_fill, refill  # noqa: E402  # pyright: ignore[reportMissingImports]

from pumphost.errors import PumpError  # noqa: E402
from pumpsim.commissioned import Commissioned  # noqa: E402
from pumpsim.simulator import Simulator  # noqa: E402

DAY_MS = 86_400_000
FLEX = "00:00@100mcg/day,06:00@150mcg/day,12:00@120mcg/day,18:00@200mcg/day"
CONC = "500mcg/mL"
RESERVE_NL = 10_000  # firmware/pump/controller.py: the write-ahead reservation
LOG_WINDOW = 1000  # the ring keeps at least 1024 entries: check the newest 1000
# Cut kinds: a plain cut; a torn next flash write (usually a write-ahead
# reservation); a cut whose restart is itself cut by tearing its first write
# (the BOOT entry appended to the event log).
KINDS = ("plain", "tear", "tear_at_boot")
MAX_RESUME_MS = 600_000
TIMEOUT_S = 30.0


class CampaignError(AssertionError):
    pass


class Campaign:
    def __init__(self, seed, cuts, days, flash_dir):
        self.rng = random.Random(seed)
        self.cuts_wanted = cuts
        self.days = days
        self.sim = Simulator(stepped=True, flash_dir=flash_dir, provision_gate=True)
        self.bench = Commissioned(self.sim, timeout=TIMEOUT_S)
        self.seen_log = {}  # seq -> (rtc, event) read back from the device
        self.stats = {
            "cuts": 0,
            "plain_cuts": 0,
            "torn_writes": 0,
            "torn_files": {},
            "memory_alarms": 0,
            "not_resumed": 0,
            "estimate_above_truth": 0,
            "cut_loss_over_bound": 0,
            "log_entries_lost": 0,
            "refill_refused": 0,
            "boot_events_missing": 0,
            "max_cut_loss_nl": 0,
            "max_under_estimate_nl": 0,
            "boluses": 0,
            "refills": 0,
            "restart_to_resume_ms": [],
        }
        self.failures = []

    # -- setup -----------------------------------------------------------------
    def start(self):
        self.sim.start()
        self.bench.open()
        self.pump, self.rig = self.bench.pump, self.bench.rig
        first_fill(self.pump, self.rig)
        # the flex steps line up with the device clock's midnight
        rtc = int(self.pump.request("CLOCK").fields["rtc_s"])
        self.rig.call("advance", ms=(86_400 - rtc % 86_400) * 1000)
        confirm(self.pump, "PROGRAM", "FLEX", conc=CONC, steps=FLEX)
        confirm(self.pump, "START")
        self.ustep_nl = int(self.status()["ustep_pl"]) / 1000
        self.bound_nl = RESERVE_NL + self.ustep_nl + 1  # + 1 nL of rounding up
        self.under_nl = self.under_estimate()

    def close(self):
        self.bench.close()
        self.sim.stop()

    # -- reading the device and the plant -------------------------------------
    def status(self):
        return self.pump.request("STATUS").fields

    def under_estimate(self):
        """How far the firmware's reservoir account is below the truth, in nL."""
        truth_nl = self.rig.call("truth")["reservoir_ul"] * 1000
        return truth_nl - int(self.status()["reservoir_nl"])

    def read_log(self):
        last = int(self.pump.request("LOG", limit=1).fields["last_seq"])
        since, out = max(0, last - LOG_WINDOW), {}
        while since <= last:
            reply = self.pump.request("LOG", since=since, limit=200)
            for row in reply.rows:
                out[int(row.fields["seq"])] = (row.fields["rtc"], row.fields["event"])
            if not reply.rows:
                break
            since = int(reply.fields["next"])
        return out, last

    # -- the run ---------------------------------------------------------------
    def run(self):
        total_ms = self.days * DAY_MS
        # cut instants, boluses (one a day, lockout-safe) and the refill at half-time
        events = [(self.rng.randrange(total_ms), "cut") for _ in range(self.cuts_wanted)]
        events += [
            (d * DAY_MS + self.rng.randrange(DAY_MS // 2), "bolus") for d in range(self.days)
        ]
        events.append((total_ms // 2, "refill"))
        now = 0
        for at, kind in sorted(events):
            if at > now:
                self.rig.call("advance", ms=at - now)
                now = at
            if kind == "bolus":
                confirm(self.pump, "BOLUS", dose="20mcg", over="10min")
                self.stats["boluses"] += 1
            elif kind == "refill":
                self.refill()
            else:
                now += self.cut()
        self.rig.call("advance", ms=max(0, total_ms - now))
        return self.summary()

    def refill(self):
        """The routine refill. The firmware checks the aspirated volume against
        its account; power cuts have lowered that account, so the check may
        refuse a correct refill: counted, then the drug goes back and the
        procedure is aborted, as a technician would."""
        try:
            refill(self.pump, self.rig, vol="18mL", conc=CONC)
            self.stats["refills"] += 1
        except PumpError as error:
            self.fail("refill_refused", f"{error.code}: {error}")
            back = self.rig.call("truth")["events"][-1]["ul"]
            self.rig.call("inject", ul=back, conc_mcg_ml=500)
            self.pump.request("REFILL", "ABORT")
            self.rig.call("needle", at="out")
        self.under_nl = self.under_estimate()

    def cut(self):
        """One power cut and the checks after it; returns the virtual ms it took."""
        rig, stats = self.rig, self.stats
        self.under_nl = self.under_estimate()
        boots = rig.call("mcu")["boots"]
        t0 = rig.call("now")["now_us"]
        kind = self.rng.choice(KINDS)
        reboots = 1
        if kind == "tear_at_boot":
            rig.call("tear", bytes=self.rng.randrange(0, 80))
            rig.call("power_cut")
            reboots = 2
            self.count_tear()
        elif kind == "tear":
            rig.call("tear", bytes=self.rng.randrange(0, 600))
            for _ in range(48):  # until the next write happens (at most a few hours)
                rig.call("advance", ms=300_000)
                if rig.call("mcu")["boots"] > boots:
                    break
            self.count_tear()
        else:
            rig.call("power_cut")
            stats["plain_cuts"] += 1
        stats["cuts"] += 1
        self.check_restart(boots + reboots)
        return (rig.call("now")["now_us"] - t0) // 1000 + self.measure_resume()

    def count_tear(self):
        tear = self.rig.call("flash")["tears"][-1]
        files = self.stats["torn_files"]
        self.stats["torn_writes"] += 1
        files[tear["file"]] = files.get(tear["file"], 0) + 1

    def fail(self, what, detail):
        self.stats[what] += 1
        if len(self.failures) < 20:
            self.failures.append({"cut": self.stats["cuts"], "check": what, "detail": detail})

    def check_restart(self, boots):
        rig = self.rig
        mcu = rig.call("mcu")
        if mcu["boots"] != boots:
            raise CampaignError(f"expected boot {boots}, mcu says {mcu}")
        s = self.status()
        codes = s["alarms"].split(",")
        if "MEMORY" in codes:
            self.fail("memory_alarms", s["alarms"])
        if s["state"] != "RUNNING":
            self.fail("not_resumed", f"{s['state']}: {s['reason']}")
        truth_nl = rig.call("truth")["reservoir_ul"] * 1000
        under = truth_nl - int(s["reservoir_nl"])
        if under < 0:
            self.fail("estimate_above_truth", f"estimate {s['reservoir_nl']} truth {truth_nl}")
        loss = under - self.under_nl
        self.stats["max_cut_loss_nl"] = max(self.stats["max_cut_loss_nl"], loss)
        self.stats["max_under_estimate_nl"] = max(self.stats["max_under_estimate_nl"], under)
        if loss > self.bound_nl:
            self.fail("cut_loss_over_bound", f"lost {loss:.1f} nL > {self.bound_nl:.1f}")
        self.under_nl = under
        if "RESTARTED" in codes:  # acknowledged, so the next restart raises it afresh
            for row in self.pump.request("ALARMS").rows:
                if row.fields["code"] == "RESTARTED":
                    self.pump.request("ACK", id=row.fields["id"])
        self.check_log()

    def check_log(self):
        log, last = self.read_log()
        lost = [
            seq
            for seq, entry in self.seen_log.items()
            if seq > last - LOG_WINDOW and log.get(seq) != entry
        ]
        if lost:
            self.fail("log_entries_lost", f"seqs {lost[:10]}")
        boot = [seq for seq, (_, event) in log.items() if event == "BOOT"]
        if not boot or max(boot) < max(self.seen_log, default=-1):
            self.fail("boot_events_missing", "no BOOT entry after the last entry seen")
        self.seen_log.update(log)

    def measure_resume(self):
        """Virtual ms from the restart to the plant's first microstep (including
        the wait for the programme's next step, at most its step interval)."""
        rig = self.rig
        start = rig.call("truth")["microsteps"]
        waited = 0
        while waited < MAX_RESUME_MS:
            rig.call("advance", ms=1000)
            waited += 1000
            if rig.call("truth")["microsteps"] > start:
                break
        self.stats["restart_to_resume_ms"].append(waited)
        return waited

    def summary(self):
        stats = dict(self.stats)
        resume = sorted(stats.pop("restart_to_resume_ms"))
        truth = self.rig.call("truth")
        stats["restart_to_resume_ms"] = {
            "max": resume[-1] if resume else None,
            "median": resume[len(resume) // 2] if resume else None,
            "resolution_ms": 1000,
        }
        stats["bound_per_cut_nl"] = round(self.bound_nl, 3)
        stats["delivered_ul"] = round(truth["delivered_ul"], 3)
        stats["lost_pulses"] = truth["lost_pulses"]
        stats["failures"] = self.failures
        stats["ok"] = not self.failures
        return stats


def run_campaign(seed, cuts, days):
    with tempfile.TemporaryDirectory(prefix="powercut-") as tmp:
        campaign = Campaign(seed, cuts, days, Path(tmp) / "flash")
        campaign.start()
        try:
            summary = campaign.run()
        finally:
            campaign.close()
    summary.update({"seed": seed, "cuts_requested": cuts, "days": days})
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description="Power-cut campaign (issue 5)")
    parser.add_argument("--cuts", type=int, default=500)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "out" / "campaigns" / "powercut.json"))
    args = parser.parse_args(argv)
    summary = run_campaign(args.seed, args.cuts, args.days)
    text = json.dumps(summary, indent=2, sort_keys=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
