"""Steps shared by HIL tests: two-phase changes, a first fill and a refill,
through the public PumpClient, so they run the same against a simulator or a
board. Where a rig exists the refill needle also moves drug physically (rig
commands `aspirate`/`inject`), so the plant holds what the firmware believes."""

from pumphost.units import parse_concentration, parse_volume, wire_volume

PROBE = "2mL"


def confirm(pump, verb, *words, **args):
    """Propose a change, check the device's review, confirm it; returns the result."""
    review = pump.request(verb, *words, **args)
    token = review.fields["token"]
    return review, pump.request("CONFIRM", token=token)


def ul(volume):
    """'18mL' -> 18000.0 (uL, the rig's unit)."""
    return parse_volume(volume) / 1000


def as_volume(ul_value):
    """A rig volume in uL as the protocol's volume, to the nanolitre."""
    return wire_volume(round(ul_value * 1000))


def aspirate_all(pump, rig):
    """Empty the reservoir through the needle as a technician does (pull until
    nothing more comes); returns the volume the syringe holds, in uL."""
    capacity_ul = int(pump.request("STATUS").fields["capacity_nl"]) / 1000
    return rig.call("aspirate", ul=capacity_ul)["aspirated_ul"]


def fill(pump, vol, conc, rig=None):
    """REFILL FILL, proposed and confirmed; on a rig the drug goes in through the
    needle first. Returns (review, result)."""
    if rig is not None:
        rig.call("inject", ul=ul(vol), conc_mcg_ml=parse_concentration(conc))
    return confirm(pump, "REFILL", "FILL", vol=vol, conc=conc, conc2=conc)


def first_fill(pump, rig, vol="18mL", conc="500mcg/mL"):
    """Fill an empty reservoir: an empty reservoir needs the probe injection to
    prove septum access (see docs/protocol.md, REFILL ASPIRATED). On a rig the
    needle is placed in the septum first (the needle-detect input must see it),
    and the probe really goes in and comes back out."""
    if rig is None:
        pump.request("REFILL", "BEGIN")
        pump.request("REFILL", "ASPIRATED", vol="0mL", probe=PROBE, back=PROBE)
        fill(pump, vol, conc)
        return
    rig.call("needle", at="septum")
    pump.request("REFILL", "BEGIN")
    residual = aspirate_all(pump, rig)
    rig.call("inject", ul=ul(PROBE), conc_mcg_ml=parse_concentration(conc))
    back = rig.call("aspirate", ul=ul(PROBE))["aspirated_ul"]
    pump.request("REFILL", "ASPIRATED", vol=as_volume(residual), probe=PROBE, back=as_volume(back))
    fill(pump, vol, conc, rig)
    rig.call("needle", at="out")


def refill(pump, rig, vol="18mL", conc="500mcg/mL"):
    """A routine refill through the septum: empty the reservoir, report what came
    out, fill. Returns (BEGIN fields, aspirated uL, FILL review, CONFIRM result)."""
    rig.call("needle", at="septum")
    begin = pump.request("REFILL", "BEGIN").fields
    got = aspirate_all(pump, rig)
    pump.request("REFILL", "ASPIRATED", vol=as_volume(got))
    review, result = fill(pump, vol, conc, rig)
    rig.call("needle", at="out")
    return begin, got, review, result


def status(pump):
    return pump.request("STATUS").fields


def alarms(pump):
    """Active alarms by code: the fields of each ALARMS row."""
    return {row.fields["code"]: row.fields for row in pump.request("ALARMS").rows}


def raised(lines, code):
    """Fields of the unsolicited `! ALARM` lines among `lines` that raised `code`."""
    return [
        line.fields
        for line in lines
        if line.kind == "ALARM"
        and line.fields.get("code") == code
        and line.fields.get("event") == "RAISED"
    ]


def start_continuous(pump, dose="100mcg/day", conc="500mcg/mL"):
    confirm(pump, "PROGRAM", "CONT", dose=dose, conc=conc)
    return confirm(pump, "START")[1]
