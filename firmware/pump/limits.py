# Dose limits every programme, bolus and refill is checked against. Defaults come
# from shared/domain/clinical-rules.md; each device may be configured otherwise.
from pump.request import ProtocolError

DEFAULTS = {
    # labelled strengths of intrathecal baclofen (Gablofen 50/500/1000/2000 mcg/mL)
    "concentrations": [50, 500, 1000, 2000],
    # above the highest maintenance doses reported (cerebral 703, adult spinal
    # commonly up to 800 mcg/day): a ceiling against typing slips, not a target
    "max_daily_ng": 1000000,
    # the largest screening test dose
    "max_bolus_ng": 100000,
    "min_bolus_ms": 60000,
    # a volume ceiling independent of concentration: 1000 mcg/day at 50 mcg/mL
    "max_rate_nl_day": 20000000,
    # between two boluses, and how many in any 24 h (configurable defaults)
    "bolus_lockout_ms": 3600000,
    "max_boluses_24h": 4,
    # titration step: spinal origin 10-30 %, cerebral origin and paediatric 5-15 %
    # per step (labelling); the conservative profile is the default
    "titration_profile": "cerebral",
    # 4 mL: withdrawal was seen at a mean 2.7 mL residual with the 2 mL default
    # and none after raising the alarm to 4 mL (Neurosurgery 2004;55:390)
    "low_reservoir_nl": 4000000,
    # drug stability: the longest labelled refill interval
    "refill_interval_days": 180,
}

TITRATION_PCT = {"spinal": 30, "cerebral": 15, "paediatric": 15}
DAY_S = 86400


def refuse(rule, msg, limit):
    raise ProtocolError("E_LIMIT", msg, [("rule", rule), ("limit", limit)])


def check_concentration(limits, conc):
    if conc not in limits["concentrations"]:
        refuse("concentration", "%d mcg/mL is not an allowed concentration" % conc,
               ",".join(str(c) for c in limits["concentrations"]))


def check_daily(limits, ng_day):
    if ng_day > limits["max_daily_ng"]:
        refuse("max_daily_dose", "daily dose above the device maximum", limits["max_daily_ng"])


def check_rate(limits, nl_day):
    if nl_day > limits["max_rate_nl_day"]:
        refuse("max_rate", "volume rate above the device maximum", limits["max_rate_nl_day"])


def check_titration(limits, old_ng, new_ng, now, started, last_increase, override):
    """Refuse a daily-dose increase the titration rules forbid. Decreases always pass.

    Returns True if the change is an increase (the caller records when)."""
    if old_ng is None or new_ng <= old_ng:
        return False
    if started and now - started < DAY_S:
        refuse("titration_first_24h", "no dose increase in the first 24 h of therapy",
               started + DAY_S)
    if last_increase and now - last_increase < DAY_S:
        refuse("titration_once_per_24h", "at most one dose increase per 24 h",
               last_increase + DAY_S)
    pct = TITRATION_PCT[limits["titration_profile"]]
    ceiling = old_ng * (100 + pct) // 100
    if new_ng > ceiling and not override:
        refuse("titration_step", "increase above %d %% (%s profile): give override=\"reason\""
               % (pct, limits["titration_profile"]), ceiling)
    return True


def check_bolus_history(limits, history, now_s):
    """history: device-clock seconds of boluses given (newest last)."""
    if history and (now_s - history[-1]) * 1000 < limits["bolus_lockout_ms"]:
        refuse("bolus_lockout", "bolus lockout interval not over",
               history[-1] + limits["bolus_lockout_ms"] // 1000)
    recent = [t for t in history if now_s - t < DAY_S]
    if len(recent) >= limits["max_boluses_24h"]:
        refuse("max_boluses_24h", "bolus count for the last 24 h reached",
               limits["max_boluses_24h"])


def check_bolus(limits, ng, over_ms):
    if ng > limits["max_bolus_ng"]:
        refuse("max_bolus_dose", "bolus dose above the device maximum", limits["max_bolus_ng"])
    if over_ms < limits["min_bolus_ms"]:
        refuse("min_bolus_duration", "a bolus takes at least 1 min (labelling)",
               limits["min_bolus_ms"])
