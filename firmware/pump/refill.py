# Refill with septum-access confirmation, enforced by the device. The technician
# empties the reservoir and reports what came out; only a volume matching the
# pump's own account proves the needle is in the reservoir septum. A pocket fill
# (needle in subcutaneous tissue) is how refills kill, so a mismatch stops the
# procedure. Nothing changes until the final CONFIRM; an abort or an expired
# window leaves the previous therapy and reservoir exactly as they were.
from pump import units
from pump.args import need, only
from pump.commands import propose
from pump.forecast import ms_until_used
from pump.request import ProtocolError

WINDOW_DEFAULT_MS = 30 * 60000
WINDOW_MAX_MS = 60 * 60000
MAX_REFUSALS = 3
# Below this residual an empty reservoir and a needle in the pocket both give
# back nothing, so aspiration alone proves nothing: a probe injection that comes
# back is required instead.
MIN_PROOF_NL = 1000000
PROBE_RETURN_PCT = 90
SEPTUM_MSG = "needle may be outside the reservoir septum, or the pump misdelivered"


def tolerance_nl(expected_nl, capacity_nl):
    """Accepted |aspirated - expected|: 20 % of the residual, at least 0.1 mL, at
    most 5 % of capacity (1 mL on a 20 mL, 2 mL on a 40 mL reservoir: the
    discrepancies Maino et al. 2017 treat as potentially consequential)."""
    tol = expected_nl // 5
    if tol < 100000:
        tol = 100000
    cap = capacity_nl // 20
    return tol if tol < cap else cap


def _check_needle(ctl):
    if "needle_detect" in ctl.hal.caps and not ctl.hal.needle_present():
        raise ProtocolError("E_SEPTUM", "needle not detected in the refill septum: " + SEPTUM_MSG)


def _begin(ctl, rid, args):
    only(args, ("window",))
    if ctl.refill is not None:
        raise ProtocolError("E_STATE", "a refill is already in progress")
    if ctl.therapy.state == "PRIMING":
        raise ProtocolError("E_STATE", "finish or stop priming before a refill")
    window = units.duration_ms(args["window"]) if "window" in args else WINDOW_DEFAULT_MS
    if not 60000 <= window <= WINDOW_MAX_MS:
        raise ProtocolError("E_RANGE", "refill window must be 1-60 min")
    _check_needle(ctl)
    expected = max(ctl.delivery.reservoir_nl(), 0)
    cap = ctl.reservoir["capacity_nl"]

    def mutate():
        ctl.refill = {"stage": "ASPIRATE", "expected_nl": expected, "refusals": 0,
                      "deadline": ctl.clock.now + window * 1000}
        ctl.therapy.hold = True

    ctl.change(mutate)
    ctl.log_event("REFILL_BEGIN", [("expected_nl", expected)])
    ctl.send("OK", rid, [("stage", "ASPIRATE"), ("expected_nl", expected),
                         ("tolerance_nl", tolerance_nl(expected, cap)),
                         ("uncertain_nl", ctl.reservoir.get("uncertain_nl", 0)),
                         ("conc_mcg_ml", ctl.reservoir["conc"]), ("capacity_nl", cap),
                         ("window_s", window // 1000),
                         ("probe_needed", 1 if expected < MIN_PROOF_NL else 0)])


def _refuse(ctl, r, why):
    r["refusals"] += 1
    left = MAX_REFUSALS - r["refusals"]
    if left <= 0:
        r["stage"] = "LOCKED"
    ctl.log_event("SEPTUM_REFUSED", [("why", why)])
    raise ProtocolError("E_SEPTUM", why + ": " + SEPTUM_MSG,
                        [("retries_left", left if left > 0 else 0)])


def _aspirated(ctl, rid, args):
    only(args, ("vol", "probe", "back"))
    r = ctl.refill
    if r is None or r["stage"] != "ASPIRATE":
        locked = r is not None and r["stage"] == "LOCKED"
        raise ProtocolError("E_STATE", "no refill waiting for the aspirated volume"
                            + (" (too many refusals: REFILL ABORT)" if locked else ""))
    _check_needle(ctl)
    got = units.volume_nl(need(args, "vol"))
    expected = r["expected_nl"]
    tol = tolerance_nl(expected, ctl.reservoir["capacity_nl"])
    # restarts since the last fill can only have made the account low, never
    # high: that much more may come out without any doubt about the needle
    extra = ctl.reservoir.get("uncertain_nl", 0)
    if got > expected + tol + extra or got + tol < expected:
        _refuse(ctl, r, "aspirated %d nL, expected %d nL -%d/+%d nL"
                % (got, expected, tol, tol + extra))
    if expected < MIN_PROOF_NL:
        if "probe" not in args or "back" not in args:
            raise ProtocolError("E_ARG", "residual too small to prove septum access: inject a "
                                "probe volume, aspirate it back, give probe= and back=")
        probe = units.volume_nl(args["probe"])
        back = units.volume_nl(args["back"])
        if probe < 500000:
            raise ProtocolError("E_RANGE", "probe volume must be at least 0.5 mL")
        if back * 100 < probe * PROBE_RETURN_PCT:
            _refuse(ctl, r, "probe of %d nL came back as %d nL" % (probe, back))
    r["stage"] = "FILL"
    r["aspirated_nl"] = got
    ctl.log_event("SEPTUM_CONFIRMED", [("aspirated_nl", got), ("expected_nl", expected)])
    ctl.send("OK", rid, [("stage", "FILL"), ("aspirated_nl", got), ("expected_nl", expected)])


def _fill(ctl, rid, args):
    only(args, ("vol", "conc", "conc2"))
    r = ctl.refill
    if r is None or r["stage"] != "FILL":
        raise ProtocolError("E_STATE", "septum access not confirmed yet")
    _check_needle(ctl)
    vol = units.volume_nl(need(args, "vol"))
    conc = units.concentration(need(args, "conc"))
    if units.concentration(need(args, "conc2")) != conc:
        raise ProtocolError("E_ARG", "the two concentration entries differ: check the vial label")
    cap = ctl.reservoir["capacity_nl"]
    if vol <= 0 or vol > cap:
        raise ProtocolError("E_RANGE",
                            "fill volume must be above 0 and at most the %d nL capacity" % cap)
    ctl.check_concentration(conc)
    prog = ctl.therapy.program
    reprogram = prog is not None and prog["conc"] != conc
    was = ctl.therapy.state
    after = "STOPPED" if reprogram else was
    low_at = -1
    if not reprogram:
        ms = ms_until_used(ctl.therapy, ctl.clock.now, vol - ctl.low_nl(), after == "RUNNING")
        low_at = ctl.clock.rtc() + ms // 1000 if ms is not None else -1
    review = [("volume_nl", vol), ("conc_mcg_ml", conc), ("capacity_nl", cap),
              ("prev_conc_mcg_ml", ctl.reservoir["conc"]), ("state_after", after),
              ("reprogram_required", 1 if reprogram else 0), ("low_alarm_rtc", low_at)]

    def apply():
        ctl.change(lambda: ctl.commit_refill(vol, conc, reprogram))

    propose(ctl, rid, "REFILL", review, apply)


def _abort(ctl, rid, args):
    only(args, ())
    if ctl.refill is None:
        raise ProtocolError("E_STATE", "no refill in progress")
    ctl.end_refill("aborted")
    ctl.send("OK", rid, [("stage", "ABORTED")])


def cmd_refill(ctl, rid, words, args):
    if len(words) != 2:
        raise ProtocolError("E_ARG", "usage: REFILL BEGIN|ASPIRATED|FILL|ABORT ...")
    sub = words[1]
    if sub == "BEGIN":
        _begin(ctl, rid, args)
    elif sub == "ASPIRATED":
        _aspirated(ctl, rid, args)
    elif sub == "FILL":
        _fill(ctl, rid, args)
    elif sub == "ABORT":
        _abort(ctl, rid, args)
    else:
        raise ProtocolError("E_VERB", "unknown REFILL step %s" % sub)


