# Read-only commands and the two-phase therapy changes. A change command only
# validates and describes the complete result; nothing happens until CONFIRM
# quotes the token. A refused or unconfirmed change leaves everything as it was.
import os

from pump import therapy, units
from pump.args import need, only, words_exactly
from pump.request import ProtocolError

CONFIRM_WINDOW_US = 60000000
PRIME_NL_PER_MIN = 1000000


def _token():
    raw = os.urandom(3)
    return "%02X%02X%02X" % (raw[0], raw[1], raw[2])


def propose(ctl, rid, change, review, apply):
    """Park a change until CONFIRM; reply with its token and the full result."""
    token = _token()
    ctl.pending = {"token": token, "change": change, "apply": apply,
                   "expires": ctl.clock.now + CONFIRM_WINDOW_US}
    pairs = [("token", token), ("expires_s", CONFIRM_WINDOW_US // 1000000), ("change", change)]
    ctl.send("OK", rid, pairs + review)


def cmd_confirm(ctl, rid, words, args):
    only(args, ("token",))
    token = args["token"] if "token" in args else (words[1] if len(words) > 1 else None)
    if token is None:
        raise ProtocolError("E_ARG", "usage: CONFIRM token=XXXXXX")
    p = ctl.pending
    if p is None or p["token"] != token.upper():
        raise ProtocolError("E_TOKEN", "no pending change with that token (expired or replaced?)")
    ctl.pending = None
    p["apply"]()
    ctl.log_event("CONFIRMED", [("change", p["change"])])
    ctl.send("OK", rid, [("applied", p["change"])] + status_pairs(ctl))


def cmd_cancel(ctl, rid, words, args):
    only(args, ())
    had = ctl.pending is not None
    ctl.pending = None
    ctl.send("OK", rid, [("cancelled", 1 if had else 0)])


def cmd_version(ctl, rid, words, args):
    only(args, ())
    ctl.send("OK", rid, [("proto", ctl.PROTO_VERSION), ("fw", ctl.FW_VERSION),
                         ("board", ctl.hal.board), ("caps", ",".join(ctl.hal.caps) or "-"),
                         ("id", ctl.access.device_id)])


def status_pairs(ctl):
    t = ctl.therapy
    d = ctl.delivery
    prog = t.program
    res = ctl.reservoir
    rate_nl = 0
    dose = 0
    if prog is not None:
        i = therapy.step_at(prog, ((t.day_base_us + ctl.clock.now) % therapy.DAY_US) // 1000)
        dose = prog["steps"][i][1]
        rate_nl = prog["steps"][i][2]
    pairs = [
        ("state", ctl.state_name()),
        ("reason", t.reason),
        ("program", prog["kind"] if prog else "NONE"),
        ("reservoir_nl", max(d.reservoir_nl(), 0)),
        ("capacity_nl", res["capacity_nl"]),
        ("uncertain_nl", res.get("uncertain_nl", 0)),
        ("conc_mcg_ml", res["conc"]),
        ("prog_conc_mcg_ml", prog["conc"] if prog else 0),
        ("dose_ng_day", dose),
        ("rate_nl_day", rate_nl if t.state == "RUNNING" else 0),
        ("delivered_nl", d.delivered_total_nl()),
        ("ustep_pl", d.ustep_pl),
        ("bolus_ng", t.bolus["ng"] if t.bolus else 0),
        ("rtc_s", ctl.clock.rtc()),
        ("alarms", ",".join(ctl.alarms.codes()) or "-"),
    ]
    if prog is not None:
        ng, nl = therapy.daily_totals(prog)
        pairs.append(("total_ng_day", ng))
        pairs.append(("total_nl_day", nl))
    return pairs + ctl.reservoir_forecast()


def cmd_status(ctl, rid, words, args):
    only(args, ())
    ctl.send("OK", rid, status_pairs(ctl))


def _program_review(prog, state_after):
    ng, nl = therapy.daily_totals(prog)
    steps = ",".join("%02d:%02d@%d" % (s[0] // 3600000, s[0] // 60000 % 60, s[1])
                     for s in prog["steps"])
    rates = ",".join(str(s[2]) for s in prog["steps"])
    return [("program", prog["kind"]), ("conc_mcg_ml", prog["conc"]), ("steps_ng_day", steps),
            ("rates_nl_day", rates), ("total_ng_day", ng), ("total_nl_day", nl),
            ("state_after", state_after)]


def _parse_flex(text):
    steps = []
    for part in text.split(","):
        at, sep, dose = part.partition("@")
        if not sep:
            raise ProtocolError("E_VALUE", "flex step must be HH:MM@<dose>mcg/day, got %r" % part)
        steps.append((units.time_of_day_ms(at), units.daily_dose_ng(dose)))
    return steps


def cmd_program(ctl, rid, words, args):
    if len(words) != 2 or words[1] not in ("CONT", "FLEX"):
        raise ProtocolError(
            "E_ARG", "usage: PROGRAM CONT dose=.. conc=.. | PROGRAM FLEX conc=.. steps=.."
        )
    kind = words[1]
    conc = units.concentration(need(args, "conc"))
    if kind == "CONT":
        only(args, ("dose", "conc", "override"))
        steps = [(0, units.daily_dose_ng(need(args, "dose")))]
    else:
        only(args, ("steps", "conc", "override"))
        steps = _parse_flex(need(args, "steps"))
    prog = therapy.make_program(kind, conc, steps)
    override = args.get("override", "")
    increase = ctl.check_program(prog, override)
    state_after = ctl.state_after_program(prog)

    def apply():
        def mutate():
            ctl.therapy.program = prog
            if state_after == "RUNNING" and ctl.therapy.state != "RUNNING":
                ctl.set_state("RUNNING", "programme confirmed after concentration change")
        ctl.change(mutate)
        ctl.program_applied(prog, increase, override)

    review = _program_review(prog, state_after)
    review.append(("dose_increase", 1 if increase else 0))
    if override:
        review.append(("override", override))
    propose(ctl, rid, "PROGRAM", review, apply)


def cmd_bolus(ctl, rid, words, args):
    words_exactly(words, 1, "BOLUS dose=<mcg> over=<duration>")
    only(args, ("dose", "over"))
    dose = units.dose_ng(need(args, "dose"))
    over = units.duration_ms(need(args, "over"))
    conc = ctl.reservoir["conc"]
    if dose <= 0:
        raise ProtocolError("E_RANGE", "bolus dose must be above zero")
    ctl.require_delivery_possible(("RUNNING", "STOPPED"))
    if ctl.therapy.bolus is not None:
        raise ProtocolError("E_STATE", "a bolus is already running")
    ctl.check_bolus(dose, over)
    nl = therapy.volume_nl(dose, conc)
    review = [("dose_ng", dose), ("volume_nl", nl), ("over_ms", over), ("conc_mcg_ml", conc),
              ("basal", "continues" if ctl.therapy.state == "RUNNING" else "none")]

    def apply():
        def mutate():
            now = ctl.clock.now
            ctl.therapy.bolus = {"ng": dose, "nl": nl, "start": now, "end": now + over * 1000}
            ctl.therapy.boluses = ctl.therapy.boluses[-7:] + [ctl.clock.rtc()]
        ctl.change(mutate)
        ctl.log_event("BOLUS", [("dose_ng", dose), ("volume_nl", nl), ("over_ms", over)])

    propose(ctl, rid, "BOLUS", review, apply)


def cmd_prime(ctl, rid, words, args):
    words_exactly(words, 1, "PRIME vol=<volume>")
    only(args, ("vol",))
    nl = units.volume_nl(need(args, "vol"))
    if nl <= 0 or nl > 2000000:
        raise ProtocolError("E_RANGE", "priming volume must be 0-2 mL (catheter + dead volume)")
    ctl.require_delivery_possible(("STOPPED",))
    if ctl.delivery.reservoir_nl() < nl:
        raise ProtocolError("E_RANGE", "the reservoir holds less than the priming volume")
    over_ms = (nl * 60000 + PRIME_NL_PER_MIN - 1) // PRIME_NL_PER_MIN
    review = [("volume_nl", nl), ("over_ms", over_ms), ("state_after", "PRIMING")]

    def apply():
        def mutate():
            now = ctl.clock.now
            ctl.therapy.prime = {"nl": nl, "start": now, "end": now + over_ms * 1000}
            ctl.set_state("PRIMING", "priming %d nL" % nl)
        ctl.change(mutate)

    propose(ctl, rid, "PRIME", review, apply)


def _run_change(ctl, rid, words, args, change, allowed_from, state_after, reason_needed):
    words_exactly(words, 1, change + " reason=\"...\"")
    only(args, ("reason",))
    reason = args.get("reason", "")
    if reason_needed and not reason:
        raise ProtocolError("E_ARG", "%s needs reason=\"...\": it is recorded" % change)
    if ctl.therapy.state not in allowed_from:
        raise ProtocolError("E_STATE", "%s is not possible while %s" % (change, ctl.state_name()))
    if state_after == "RUNNING":
        ctl.require_startable()
    review = [("state_after", state_after), ("reason", reason or change.lower())]
    if ctl.therapy.bolus is not None and state_after != "RUNNING":
        review.append(("bolus", "cancelled"))

    def apply():
        def mutate():
            if state_after != "RUNNING":
                ctl.therapy.bolus = None
                ctl.therapy.prime = None
            ctl.set_state(state_after, reason or change.lower())
        ctl.change(mutate)

    propose(ctl, rid, change, review, apply)


def cmd_start(ctl, rid, words, args):
    _run_change(ctl, rid, words, args, "START", ("STOPPED",), "RUNNING", False)


def cmd_resume(ctl, rid, words, args):
    _run_change(ctl, rid, words, args, "RESUME", ("PAUSED",), "RUNNING", False)


def cmd_pause(ctl, rid, words, args):
    _run_change(ctl, rid, words, args, "PAUSE", ("RUNNING",), "PAUSED", True)


def cmd_stop(ctl, rid, words, args):
    _run_change(ctl, rid, words, args, "STOP", ("RUNNING", "PAUSED", "PRIMING"), "STOPPED", True)


def cmd_reset(ctl, rid, words, args):
    """Leave FAULT after the technician has found why the monitor tripped."""
    _run_change(ctl, rid, words, args, "RESET", ("FAULT",), "STOPPED", True)


def cmd_alarms(ctl, rid, words, args):
    only(args, ())
    for a in ctl.alarms.active:
        ctl.send("ROW", rid, ctl.alarms.describe(a))
    ctl.send("OK", rid, [("n", len(ctl.alarms.active))])


def cmd_ack(ctl, rid, words, args):
    only(args, ("id",))
    text = args["id"] if "id" in args else (words[1] if len(words) == 2 else "")
    if not text.isdigit():
        raise ProtocolError("E_ARG", "usage: ACK id=<alarm id>")
    a = ctl.alarms.ack(int(text))
    if a is None:
        raise ProtocolError("E_RANGE", "no active alarm with id %s" % text)
    ctl.log_event("ACK", [("id", a["id"]), ("code", a["code"])])
    ctl.dirty = True
    ctl.send("OK", rid, ctl.alarms.describe(a))


LOG_PAGE_MAX = 200


def cmd_log(ctl, rid, words, args):
    """Event log export, oldest first, one ROW per entry; page with since=next."""
    words_exactly(words, 1, "LOG [since=<seq>] [from=<rtc_s>] [to=<rtc_s>] [limit=<n>]")
    only(args, ("since", "from", "to", "limit"))
    since = units.decimal(args.get("since", "0"), 0)
    first = units.decimal(args.get("from", "0"), 0)
    last = units.decimal(args["to"], 0) if "to" in args else 1 << 62
    limit = units.decimal(args.get("limit", "100"), 0)
    if not 1 <= limit <= LOG_PAGE_MAX:
        raise ProtocolError("E_RANGE", "limit must be 1-%d" % LOG_PAGE_MAX)
    entries = ctl.log.read(since, last, first, limit)
    for seq, rtc, kind, fields in entries:
        ctl.send("ROW", rid, [("seq", seq), ("rtc", rtc), ("event", kind)] + list(fields.items()))
    nxt = entries[-1][0] + 1 if entries else since
    ctl.send("OK", rid, [("n", len(entries)), ("next", nxt), ("last_seq", ctl.log.seq - 1)])


def cmd_clock(ctl, rid, words, args):
    if len(words) == 1:
        only(args, ())
        ctl.send("OK", rid, [("rtc_s", ctl.clock.rtc())])
        return
    if words[1] != "SET":
        raise ProtocolError("E_VERB", "usage: CLOCK | CLOCK SET rtc_s=<unix seconds>")
    only(args, ("rtc_s",))
    rtc = units.decimal(need(args, "rtc_s"), 0)

    def mutate():
        ctl.hal.set_rtc_s(rtc)
        ctl.therapy.day_base_us = ctl.clock.day_base_us()

    ctl.change(mutate)
    ctl.log_event("CLOCK_SET", [("rtc_s", rtc)])
    ctl.send("OK", rid, [("rtc_s", ctl.clock.rtc())])


HANDLERS = {
    "VERSION": cmd_version,
    "STATUS": cmd_status,
    "PROGRAM": cmd_program,
    "BOLUS": cmd_bolus,
    "PRIME": cmd_prime,
    "START": cmd_start,
    "STOP": cmd_stop,
    "PAUSE": cmd_pause,
    "RESUME": cmd_resume,
    "RESET": cmd_reset,
    "CONFIRM": cmd_confirm,
    "CANCEL": cmd_cancel,
    "ALARMS": cmd_alarms,
    "ACK": cmd_ack,
    "CLOCK": cmd_clock,
    "LOG": cmd_log,
}
