# The control loop: serial lines in, replies out; therapy, delivery, alarms and
# persistence kept consistent. One Controller per pump and no module-level state,
# so a reboot is simply a new Controller on the same HAL.
from pump import config_cmds, limits, lineio, mechanics, request, therapy
from pump.access import Access
from pump.alarms import Alarms
from pump.clock import Clock
from pump.delivery import Delivery
from pump.eventlog import EventLog
from pump.forecast import ms_until_used
from pump.monitor import CHECK_MS, DeliveryMonitor
from pump.request import ProtocolError
from pump.store import RecordStore
from pump.therapy import Therapy

MAX_WAKE_MS = 60000
RESERVE_NL = 10000  # write-ahead reservation: the bound on a power cut's under-estimate


class Controller:
    FW_VERSION = "0.1.0"
    PROTO_VERSION = "1.0"

    def __init__(self, hal, handlers):
        self.hal = hal
        self.handlers = handlers  # verb -> function(ctl, rid, words, args)
        self.clock = Clock(hal)
        self.lines = lineio.LineAssembler()
        self._faults = []
        self.alarms = Alarms(self.push)
        self.log = EventLog(hal)
        # engineer's configuration (CONFIG SET): limits and mechanics, else defaults
        self.config_store = RecordStore(hal, "config")
        self.limits, mech_cfg, self.config_status = config_cmds.restore(
            self.config_store, hal.mechanics
        )
        self.mech = mechanics.resolve(mech_cfg)
        ustep = self.mech["ustep_pl"]
        self.therapy = Therapy(ustep)
        self.therapy.day_base_us = self.clock.day_base_us()
        self.delivery = Delivery(hal, ustep, RESERVE_NL)
        self.monitor = DeliveryMonitor(ustep, 0, hal.step_count())
        # uncertain_nl: how much more than the account the reservoir may hold, grown
        # by every restart's write-ahead loss and cleared by a fill
        self.reservoir = {"capacity_nl": self.mech["capacity_nl"], "conc": 0, "filled_rtc": 0,
                          "uncertain_nl": 0}
        self.state_store = RecordStore(hal, "state")
        self.access = Access(self)  # keys, sessions, lockout (docs/security.md)
        self.refill = None
        self.pending = None  # two-phase change awaiting CONFIRM
        self.dirty = False
        self._watched = None
        self.boot()

    # ---- serial line -------------------------------------------------------
    def push(self, kind, pairs):
        """An unsolicited line: alarms and events the host did not ask for."""
        if kind == "ALARM":
            self.dirty = True  # alarm state is persisted with the therapy
        self.hal.serial_write(request.reply("! " + kind, None, pairs))

    def send(self, kind, rid, pairs):
        self.hal.serial_write(request.reply(kind, rid, pairs))

    def handle_line(self, line):
        rid = None
        try:
            rid, words, args = request.parse(line)
            fn = self.handlers.get(words[0])
            if fn is None:
                raise ProtocolError("E_VERB", "unknown command %s" % words[0])
            self.access.require(words)  # E_AUTH unless the session may do this
            fn(self, rid, words, args)
        except ProtocolError as e:
            pairs = [("code", e.code), ("msg", e.msg)]
            if e.extra:
                pairs.extend(e.extra)
            self.send("ERR", rid if rid is not None else e.rid, pairs)
        except Exception as e:  # noqa: BLE001 - a handler bug must not stop the loop
            # Two-phase changes mutate only in CONFIRM, after validation, so a
            # failing handler has almost always changed nothing; say so honestly.
            self.log_event("INTERNAL_ERROR", [("error", repr(e))])
            self.send("ERR", rid, [("code", "E_INTERNAL"),
                                   ("msg", "internal error, logged; check STATUS")])

    def read_serial(self):
        data = self.hal.serial_read()
        if not data:
            return
        out = self._faults
        self.lines.feed(data, out)
        while out:
            fault, line = out.pop(0)
            if fault == lineio.TOO_LONG:
                self.send("ERR", None, [("code", "E_TOO_LONG"),
                                        ("msg", "line longer than %d bytes" % lineio.MAX_LINE)])
            elif fault == lineio.BAD_CHAR:
                self.send("ERR", None, [("code", "E_CHARSET"),
                                        ("msg", "only printable ASCII is accepted")])
            else:
                self.handle_line(line)

    # ---- the loop ----------------------------------------------------------
    def poll(self):
        self.clock.update()
        self.monitor.advance(self.clock.now, self.therapy)
        if self.monitor.over_delivering(self.hal.step_count()):
            self.over_delivery()
        self.read_serial()
        self.housekeeping()
        d = self.delivery
        if d.needs_reservation():
            d.reserve()
            self.save()
        d.feed(self.clock, self.therapy.rate)
        if self.hal.step_pending() == 0:
            d.rest()
        if "stall_detect" in self.hal.caps and d.energised:
            # a stall input only means something while the motor is driven: judge
            # it then, and keep the verdict while the driver rests between steps
            if self.hal.stalled():
                self.alarms.raise_("STALL", self.clock.rtc(), "stall or occlusion reported")
            else:
                self.alarms.clear("STALL")
        self.watch_reservoir()
        if self.dirty:
            self.save()
        self.hal.wdt_feed()

    def wake_ms(self):
        now = self.clock.now
        wake = self.delivery.wake
        t = self.therapy
        for when in (t.bolus and t.bolus["end"], t.prime and t.prime["end"],
                     self.refill and self.refill["deadline"],
                     self.pending and self.pending["expires"]):
            if when and (wake is None or when < wake):
                wake = when
        if self.hal.step_pending():
            # the monitor watches an energised driver at least this often
            check = now + CHECK_MS * 1000
            if wake is None or check < wake:
                wake = check
        if wake is None:
            return MAX_WAKE_MS
        ms = (wake - now + 999) // 1000
        if ms < 0:
            return 0
        return ms if ms < MAX_WAKE_MS else MAX_WAKE_MS

    def housekeeping(self):
        now = self.clock.now
        t = self.therapy
        if t.bolus is not None and now >= t.bolus["end"]:
            # the finished bolus still shapes A(t) behind the planner's anchor:
            # fold it in before forgetting it (the future is unchanged, no halt)
            self.delivery.planner.settle(now, t.rate)
            self.monitor.advance(now, t)
            self.log_event("BOLUS_DONE", [("dose_ng", t.bolus["ng"])])
            t.bolus = None
            self.dirty = True
        if t.prime is not None and now >= t.prime["end"]:
            self.change(self._prime_done)
        if self.pending is not None and now >= self.pending["expires"]:
            self.pending = None
        if self.refill is not None and now >= self.refill["deadline"]:
            self.alarms.raise_("REFILL_WINDOW", self.clock.rtc())
            self.end_refill("window expired")

    def _prime_done(self):
        self.therapy.prime = None
        self.set_state("STOPPED", "priming complete")

    def watch_reservoir(self):
        d = self.delivery
        a = self.alarms
        rtc = self.clock.rtc()
        # nothing to re-judge unless a step moved, something changed or a minute
        # passed (the refill-interval alarm runs on the clock)
        mark = (self.hal.step_count(), self.state_store.seq, self.dirty, rtc // 60)
        if mark == self._watched:
            return
        self._watched = mark
        left = d.reservoir_nl()
        if self.reservoir["conc"]:
            if left <= self.limits["low_reservoir_nl"]:
                a.raise_("RES_LOW", rtc, "%d nL left" % left)
            else:
                a.clear("RES_LOW")
            overdue = self.limits["refill_interval_days"] * 86400
            if rtc - self.reservoir["filled_rtc"] > overdue:
                a.raise_("REFILL_OVERDUE", rtc)
            else:
                a.clear("REFILL_OVERDUE")
        wants = self.therapy.rate(self.clock.now)[0] > 0
        if wants and d.steps_left() == 0 and self.therapy.state in ("RUNNING", "PRIMING"):
            a.raise_("RES_EMPTY", rtc)
            self.change(lambda: self.set_state("STOPPED", "reservoir empty"))

    # ---- therapy state -----------------------------------------------------
    def over_delivery(self):
        """Independent monitor tripped: stop, cut the driver, hold for a technician."""
        excess = self.monitor.excess_nl(self.hal.step_count())

        def mutate():
            self.therapy.bolus = None
            self.therapy.prime = None
            self.therapy.state = "FAULT"
            self.therapy.reason = "over-delivery %d nL: technician reset required" % excess
        self.change(mutate)
        self.delivery.rest()
        self.hal.driver_enable(False)
        self.alarms.raise_("OVER_DELIVERY", self.clock.rtc(), "excess %d nL" % excess)
        self.log_event("OVER_DELIVERY", [("excess_nl", excess)])
        # what was emitted is what the prescription is now measured from
        self.monitor.restart(self.clock.now, self.hal.step_count())
        self.save()

    def state_name(self):
        return "REFILL" if self.refill is not None else self.therapy.state

    def change(self, mutate):
        """Apply a therapy change at this instant: settle the programme, mutate, replan."""
        self.monitor.advance(self.clock.now, self.therapy)
        self.delivery.halt(self.clock.now, self.therapy.rate)
        mutate()
        self.dirty = True

    def set_state(self, state, reason):
        t = self.therapy
        t.state = state
        t.reason = reason
        if state == "RUNNING" and not t.started_rtc:
            t.started_rtc = self.clock.rtc()
        if state != "RUNNING":
            t.bolus = None
        self.log_event("STATE", [("state", state), ("reason", reason)])
        self.therapy_alarms()

    def therapy_alarms(self):
        t = self.therapy
        rtc = self.clock.rtc()
        if t.state == "STOPPED" and t.program is not None:
            self.alarms.raise_("THERAPY_STOPPED", rtc, t.reason)
        else:
            self.alarms.clear("THERAPY_STOPPED")
        if t.state == "PAUSED":
            self.alarms.raise_("THERAPY_PAUSED", rtc, t.reason)
        else:
            self.alarms.clear("THERAPY_PAUSED")
        if self.alarms.find("RES_EMPTY") and self.delivery.steps_left() > 0:
            self.alarms.clear("RES_EMPTY")

    def log_event(self, kind, pairs):
        self.log.add(self.clock.rtc(), kind, pairs)
        self.push("EVENT", [("event", kind)] + pairs)

    # ---- checks used by the command handlers -------------------------------
    def check_program(self, prog, override):
        """Dose limits and titration; returns True if the programme raises the dose."""
        lim = self.limits
        limits.check_concentration(lim, prog["conc"])
        for step in prog["steps"]:
            limits.check_daily(lim, step[1])
            limits.check_rate(lim, step[2])
        t = self.therapy
        old = therapy.daily_totals(t.program)[0] if t.program is not None else None
        new = therapy.daily_totals(prog)[0]
        return limits.check_titration(lim, old, new, self.clock.rtc(), t.started_rtc,
                                      t.last_increase_rtc, override)

    def check_bolus(self, ng, over_ms):
        limits.check_bolus(self.limits, ng, over_ms)
        limits.check_bolus_history(self.limits, self.therapy.boluses, self.clock.rtc())

    def check_concentration(self, conc):
        limits.check_concentration(self.limits, conc)

    def require_drug(self):
        if self.refill is not None:
            raise ProtocolError("E_STATE", "a refill is in progress")
        if not self.reservoir["conc"] or self.delivery.steps_left() == 0:
            raise ProtocolError("E_STATE", "the reservoir is empty: refill first")

    def require_delivery_possible(self, states):
        self.require_drug()
        if self.therapy.state not in states:
            raise ProtocolError("E_STATE", "not possible while %s" % self.state_name())

    def require_startable(self):
        self.require_drug()
        prog = self.therapy.program
        if prog is None:
            raise ProtocolError("E_STATE", "no programme: PROGRAM first")
        if prog["conc"] != self.reservoir["conc"]:
            raise ProtocolError("E_STATE", "programme is for %d mcg/mL but the reservoir holds "
                                "%d mcg/mL: reprogram" % (prog["conc"], self.reservoir["conc"]))

    def state_after_program(self, prog):
        if prog["conc"] != self.reservoir["conc"] and self.reservoir["conc"]:
            raise ProtocolError("E_STATE", "the reservoir holds %d mcg/mL, not %d mcg/mL"
                                % (self.reservoir["conc"], prog["conc"]))
        if self.alarms.find("CONC_MISMATCH") and self.therapy.state == "STOPPED":
            return "RUNNING"
        return self.therapy.state

    def program_applied(self, prog, increase, override):
        if increase:
            self.therapy.last_increase_rtc = self.clock.rtc()
        if override:
            self.log_event("TITRATION_OVERRIDE", [("reason", override)])
        self.alarms.clear("CONC_MISMATCH")
        ng, nl = therapy.daily_totals(prog)
        self.log_event("PROGRAM", [("kind", prog["kind"]), ("conc", prog["conc"]),
                                   ("total_ng_day", ng), ("total_nl_day", nl)])
        self.therapy_alarms()

    def low_nl(self):
        return self.limits["low_reservoir_nl"]

    def reservoir_forecast(self):
        t = self.therapy
        now = self.clock.now
        left = max(self.delivery.reservoir_nl(), 0)
        running = t.state == "RUNNING" and self.refill is None
        low_ms = ms_until_used(t, now, left - self.low_nl(), running)
        empty_ms = ms_until_used(t, now, left, running)
        rtc = self.clock.rtc()
        return [("low_nl", self.low_nl()),
                ("low_in_s", -1 if low_ms is None else low_ms // 1000),
                ("empty_in_s", -1 if empty_ms is None else empty_ms // 1000),
                ("low_alarm_rtc", -1 if low_ms is None else rtc + low_ms // 1000),
                ("filled_rtc", self.reservoir["filled_rtc"])]

    # ---- refill ------------------------------------------------------------
    def commit_refill(self, vol, conc, reprogram):
        prev_conc = self.reservoir["conc"]
        self.reservoir["conc"] = conc
        self.reservoir["filled_rtc"] = self.clock.rtc()
        self.reservoir["uncertain_nl"] = 0
        self.delivery.set_reservoir(vol)
        self.refill = None
        self.therapy.hold = False
        self.log_event("REFILL", [("volume_nl", vol), ("conc", conc), ("prev_conc", prev_conc)])
        if reprogram:
            self.alarms.raise_("CONC_MISMATCH", self.clock.rtc(),
                               "reservoir %d mcg/mL" % conc)
            if self.therapy.state != "STOPPED":
                self.set_state("STOPPED", "concentration changed: reprogram the dose")
        self.therapy_alarms()

    def end_refill(self, how):
        def mutate():
            self.refill = None
            self.therapy.hold = False
            if self.pending is not None and self.pending["change"] == "REFILL":
                self.pending = None  # a FILL review must not outlive its procedure
        self.change(mutate)
        self.log_event("REFILL_END", [("how", how)])

    # ---- persistence and restart ---------------------------------------------
    def snapshot(self):
        t = self.therapy
        return {
            "program": t.program,
            "state": t.state,
            "reason": t.reason,
            "started_rtc": t.started_rtc,
            "last_increase_rtc": t.last_increase_rtc,
            "boluses": t.boluses,
            "reservoir": self.reservoir,
            "reservoir_nl": self.delivery.floor_nl,
            "delivered_nl": self.delivery.delivered_total_nl(),
            "alarms": self.alarms.snapshot(),
        }

    def save(self):
        self.state_store.save(self.snapshot())
        self.dirty = False

    def config_alarm(self, rtc):
        if self.config_status == "corrupt":
            self.alarms.raise_(
                "MEMORY",
                rtc,
                "configuration record failed its check: "
                "board mechanics and default limits in force",
            )

    def boot(self):
        snap, status = self.state_store.load()
        rtc = self.clock.rtc()
        if snap is None:
            if status == "corrupt":
                # no record survived: guess neither a reservoir nor a therapy
                self.alarms.raise_("MEMORY", rtc, "both state copies failed their check")
            self.log_event("BOOT", [("cause", self.hal.reset_cause()), ("state", status)])
            self.config_alarm(rtc)
            if status == "corrupt" or self.config_status == "corrupt":
                self.save()
            return
        t = self.therapy
        t.program = snap["program"]
        t.state = snap["state"]
        t.reason = snap["reason"]
        t.started_rtc = snap["started_rtc"]
        t.last_increase_rtc = snap["last_increase_rtc"]
        t.boluses = snap["boluses"]
        self.reservoir = snap["reservoir"]
        # mechanics set by CONFIG take effect here; the account itself is in nL
        self.reservoir["capacity_nl"] = self.mech["capacity_nl"]
        # restarting from the persisted floor may forget up to one reservation
        # (and a microstep of rounding) that is in fact still in the reservoir
        self.reservoir["uncertain_nl"] = (self.reservoir.get("uncertain_nl", 0) + RESERVE_NL
                                          + self.mech["ustep_pl"] // 1000 + 1)
        self.alarms.restore(snap["alarms"])
        self.config_alarm(rtc)
        # the persisted floor is the lowest volume the motor was allowed to reach
        self.delivery.set_reservoir(snap["reservoir_nl"])
        self.delivery.delivered_nl = snap["delivered_nl"]
        if t.state == "PRIMING":
            t.state = "STOPPED"
            t.reason = "priming interrupted by restart"
        cause = self.hal.reset_cause()
        self.alarms.raise_("RESTARTED", rtc, "reset cause %s; therapy %s" % (cause, t.state))
        self.log_event("BOOT", [("cause", cause), ("state", t.state)])
        self.therapy_alarms()
        self.save()
