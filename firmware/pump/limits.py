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
    "low_reservoir_nl": 4000000,
    "refill_interval_days": 180,
}


def refuse(rule, msg, limit):
    raise ProtocolError("E_LIMIT", msg, [("rule", rule), ("limit", limit)])


def check_concentration(limits, conc):
    if conc not in limits["concentrations"]:
        refuse("concentration", "%d mcg/mL is not an allowed concentration" % conc,
               ",".join(str(c) for c in limits["concentrations"]))


def check_daily(limits, ng_day):
    if ng_day > limits["max_daily_ng"]:
        refuse("max_daily_dose", "daily dose above the device maximum", limits["max_daily_ng"])


def check_bolus(limits, ng, over_ms):
    if ng > limits["max_bolus_ng"]:
        refuse("max_bolus_dose", "bolus dose above the device maximum", limits["max_bolus_ng"])
    if over_ms < limits["min_bolus_ms"]:
        refuse("min_bolus_duration", "a bolus takes at least 1 min (labelling)",
               limits["min_bolus_ms"])
