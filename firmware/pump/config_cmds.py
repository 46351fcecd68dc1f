# CONFIG: an engineer reads and sets the device's limits and mechanics.
# Limits take effect at CONFIRM. Mechanics take effect only at the next boot:
# the volume of one microstep underlies every account the controller keeps
# (reservoir floor, planner, delivery monitor), and all of them are built from
# it when the controller starts, so changing it under a running account would
# silently re-scale what the pump believes it holds. Both are kept in one
# power-safe "config" record; a record that fails its check leaves the board's
# mechanics and the default limits in force (and a MEMORY alarm, see controller).
from pump import limits, mechanics
from pump.commands import propose
from pump.request import ProtocolError
from pump.units import decimal

_USAGE = "CONFIG | CONFIG SET key=value ..."

# Hard bounds no configuration may cross: (key, low, high), device units.
_LIMIT_RANGES = (
    ("max_daily_ng", 1000, 2000000),  # 1-2000 mcg/day
    ("max_rate_nl_day", 1000, 40000000),  # up to 40 mL/day
    ("max_bolus_ng", 1000, 200000),  # 1-200 mcg
    ("min_bolus_ms", 60000, 3600000),  # labelling: a bolus over at least 1 min
    ("bolus_lockout_ms", 0, 86400000),
    ("max_boluses_24h", 0, 24),
    ("low_reservoir_nl", 0, 60000000),  # further bounded by the capacity in force
    ("refill_interval_days", 1, 180),  # drug stability: never beyond 180 days
)
CONC_MAX = 5000
CONC_COUNT_MAX = 8

MECH_KEYS = ("syringe", "syringe_id_um", "lead_um", "steps_per_rev", "microsteps", "capacity_nl")
LIMIT_KEYS = ("concentrations", "titration_profile") + tuple(r[0] for r in _LIMIT_RANGES)


def _refusal(code, key, msg):
    return ProtocolError(code, "%s: %s" % (key, msg), [("key", key)])


def _integer(key, text):
    try:
        return decimal(text, 0)
    except ProtocolError as e:
        raise _refusal(e.code, key, e.msg) from None


def limit_value(key, text, capacity_nl):
    """The device value of limit `key` typed as `text`; refusals name the key."""
    if key == "titration_profile":
        if text not in limits.TITRATION_PCT:
            raise _refusal("E_VALUE", key, "must be one of spinal, cerebral, paediatric")
        return text
    if key == "concentrations":
        out = []
        for part in text.split(","):
            conc = _integer(key, part)
            if not 1 <= conc <= CONC_MAX:
                raise _refusal("E_RANGE", key, "%d mcg/mL outside 1..%d" % (conc, CONC_MAX))
            if conc in out:
                raise _refusal("E_VALUE", key, "%d given twice" % conc)
            out.append(conc)
        if len(out) > CONC_COUNT_MAX:
            raise _refusal("E_RANGE", key, "at most %d concentrations" % CONC_COUNT_MAX)
        return sorted(out)
    for name, low, high in _LIMIT_RANGES:
        if name == key:
            value = _integer(key, text)
            if key == "low_reservoir_nl" and value >= capacity_nl:
                raise _refusal("E_RANGE", key, "must be below the capacity %d nL" % capacity_nl)
            if not low <= value <= high:
                raise _refusal("E_RANGE", key, "%d outside %d..%d" % (value, low, high))
            return value
    raise _refusal("E_ARG", key, "unknown configuration key")


def _as_text(value):
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _mech_pairs(m, prefix):
    return [(prefix + "syringe", m.get("syringe", "-"))] + [
        (prefix + k, m[k]) for k in MECH_KEYS[1:] + ("ustep_pl",)
    ]


def _limit_pairs(lim):
    return [(k, _as_text(lim[k])) for k in LIMIT_KEYS]


def restore(store, board_mech):
    """(limits, mechanics mapping, status) at boot from the "config" record.

    status is the store's ('ok', 'empty', 'corrupt'); a record whose content no
    longer validates counts as corrupt, and then nothing of it is used."""
    rec, status = store.load()
    lim = dict(limits.DEFAULTS)
    if rec is None:
        return lim, board_mech, status
    try:
        mech_cfg = rec["mechanics"] or board_mech
        cap = mechanics.resolve(mech_cfg)["capacity_nl"]
        for key in rec["limits"]:
            lim[key] = limit_value(key, _as_text(rec["limits"][key]), cap)
    except (ProtocolError, mechanics.MechanicsError, KeyError, TypeError):
        return dict(limits.DEFAULTS), board_mech, "corrupt"
    return lim, mech_cfg, status


def _stored(ctl):
    rec = ctl.config_store.load()[0]
    return rec if rec is not None else {"limits": {}, "mechanics": None}


def cmd_config(ctl, rid, words, args):
    if len(words) == 1:
        if args:
            raise ProtocolError("E_ARG", "usage: " + _USAGE)
        ctl.send("OK", rid, config_pairs(ctl))
        return
    if len(words) != 2 or words[1] != "SET":
        raise ProtocolError("E_VERB", "usage: " + _USAGE)
    if not args:
        raise ProtocolError("E_ARG", "CONFIG SET needs at least one key=value")
    mech_keys = [k for k in args if k in MECH_KEYS]
    if mech_keys and len(mech_keys) != len(args):
        raise ProtocolError(
            "E_ARG", "set limits and mechanics separately: mechanics apply at the next boot"
        )
    if mech_keys:
        _set_mechanics(ctl, rid, args)
    else:
        _set_limits(ctl, rid, args)


def config_pairs(ctl):
    pairs = _mech_pairs(ctl.mech, "") + _limit_pairs(ctl.limits)
    nxt = _stored(ctl)["mechanics"]
    if nxt is not None:
        m = mechanics.resolve(nxt)
        if _mech_pairs(m, "") != _mech_pairs(ctl.mech, ""):
            return pairs + [("reboot_pending", 1)] + _mech_pairs(m, "next_")
    return pairs + [("reboot_pending", 0)]


def _set_limits(ctl, rid, args):
    cap = ctl.mech["capacity_nl"]
    new = dict(ctl.limits)
    for key in args:
        new[key] = limit_value(key, args[key], cap)
    changed = [k for k in LIMIT_KEYS if new[k] != ctl.limits[k]]

    def apply():
        rec = _stored(ctl)
        rec["limits"] = new
        ctl.config_store.save(rec)
        ctl.limits = new
        ctl.log_event("CONFIG", [(k, _as_text(new[k])) for k in changed] + [("applies", "now")])

    review = [("applies", "now"), ("changed", ",".join(changed) or "-")] + _limit_pairs(new)
    propose(ctl, rid, "CONFIG", review, apply)


def _set_mechanics(ctl, rid, args):
    rec = _stored(ctl)
    base = rec["mechanics"] or ctl.hal.mechanics
    cfg = {}
    for key in base:
        cfg[key] = base[key]
    if "syringe" in args:
        # a new syringe brings its own bore and volume unless typed alongside
        cfg.pop("syringe_id_um", None)
        cfg.pop("capacity_nl", None)
    for key in args:
        cfg[key] = args[key] if key == "syringe" else _integer(key, args[key])
    try:
        m = mechanics.resolve(cfg)
    except mechanics.MechanicsError as e:
        text = str(e)
        bad = [k for k in MECH_KEYS[1:] if k in text]
        key = bad[0] if bad else ("capacity_nl" if "capacity" in text else "syringe")
        raise _refusal("E_RANGE", key, text) from None
    if ctl.limits["low_reservoir_nl"] >= m["capacity_nl"]:
        raise _refusal("E_RANGE", "capacity_nl", "must exceed low_reservoir_nl")
    # Only with nothing moving and a reservoir whose content the new mechanics
    # can take over: the account is kept in nL and re-expressed in new microsteps.
    if ctl.state_name() != "STOPPED" or ctl.therapy.prime is not None:
        raise ProtocolError("E_STATE", "mechanics change only while STOPPED")
    if ctl.alarms.find("MEMORY"):
        raise ProtocolError("E_STATE", "reservoir account unknown (MEMORY alarm): resolve first")
    if ctl.delivery.reservoir_nl() > m["capacity_nl"]:
        raise _refusal("E_RANGE", "capacity_nl", "the reservoir holds more than the new capacity")

    def apply():
        rec = _stored(ctl)
        rec["mechanics"] = cfg
        ctl.config_store.save(rec)
        ctl.log_event(
            "CONFIG", [(k, args[k]) for k in MECH_KEYS if k in args] + [("applies", "reboot")]
        )

    review = [("applies", "reboot"), ("changed", ",".join(k for k in MECH_KEYS if k in args))]
    propose(ctl, rid, "CONFIG", review + _mech_pairs(m, ""), apply)


HANDLERS = {"CONFIG": cmd_config}
