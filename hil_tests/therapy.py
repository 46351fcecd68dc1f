"""Steps shared by HIL tests: two-phase changes and a first fill, through the
public PumpClient only, so they run the same against a simulator or a board."""


def confirm(pump, verb, *words, **args):
    """Propose a change, check the device's review, confirm it; returns the result."""
    review = pump.request(verb, *words, **args)
    token = review.fields["token"]
    return review, pump.request("CONFIRM", token=token)


def first_fill(pump, rig, vol="18mL", conc="500mcg/mL"):
    """Fill an empty reservoir: an empty reservoir needs the probe injection to
    prove septum access (see docs/protocol.md, REFILL ASPIRATED). On a rig the
    needle is placed in the septum first (the needle-detect input must see it)."""
    if rig is not None:
        rig.call("needle", at="septum")
    pump.request("REFILL", "BEGIN")
    pump.request("REFILL", "ASPIRATED", vol="0mL", probe="2mL", back="2mL")
    confirm(pump, "REFILL", "FILL", vol=vol, conc=conc, conc2=conc)
    if rig is not None:
        rig.call("needle", at="out")


def start_continuous(pump, dose="100mcg/day", conc="500mcg/mL"):
    confirm(pump, "PROGRAM", "CONT", dose=dose, conc=conc)
    return confirm(pump, "START")[1]
