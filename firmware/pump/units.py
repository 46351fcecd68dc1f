# Quantities typed by people, always with their unit, turned into the core's
# integers: nanograms, nanolitres, milliseconds. No floats: "3.1mL" becomes
# exactly 3100000 nL. A unit that is plausible but wrong for intrathecal dosing
# (mg for a baclofen dose) is refused, never converted: a 1000x slip kills.
from pump.request import ProtocolError


def decimal(text, scale):
    """'12.5' with scale 3 -> 12500. Refuses signs, exponents and extra digits."""
    whole, dot, frac = text.partition(".")
    if not whole and not frac:
        raise ProtocolError("E_VALUE", "expected a number, got %r" % text)
    for part in (whole, frac):
        for c in part:
            if c < "0" or c > "9":
                raise ProtocolError("E_VALUE", "expected a plain decimal number, got %r" % text)
    if len(frac) > scale:
        raise ProtocolError("E_VALUE", "%r has more decimals than the device resolves" % text)
    if len(whole) > 10:  # Unix seconds have ten digits
        raise ProtocolError("E_RANGE", "%r is too large" % text)
    return int(whole or "0") * 10**scale + int((frac + "000000000")[:scale] or "0")


def _split(text):
    i = 0
    while i < len(text) and (text[i] == "." or "0" <= text[i] <= "9"):
        i += 1
    if i == 0:
        raise ProtocolError("E_VALUE", "expected a number with a unit, got %r" % text)
    if i == len(text):
        raise ProtocolError("E_UNITS", "%r has no unit" % text)
    return text[:i], text[i:].lower()


def _refuse_mg(unit, what):
    if unit.startswith("mg"):
        raise ProtocolError(
            "E_UNITS", "%s must be in micrograms (mcg): mg is refused, not converted" % what
        )


def daily_dose_ng(text):
    """'150mcg/day' -> 150000 ng/day."""
    num, unit = _split(text)
    _refuse_mg(unit, "a daily dose")
    if unit != "mcg/day":
        raise ProtocolError("E_UNITS", "daily dose unit must be mcg/day, got %r" % unit)
    return decimal(num, 3)


def dose_ng(text):
    """'50mcg' -> 50000 ng."""
    num, unit = _split(text)
    _refuse_mg(unit, "a dose")
    if unit != "mcg":
        raise ProtocolError("E_UNITS", "dose unit must be mcg, got %r" % unit)
    return decimal(num, 3)


def concentration(text):
    """'500mcg/mL' -> 500 (mcg/mL, whole numbers: labelled strengths are)."""
    num, unit = _split(text)
    _refuse_mg(unit, "a concentration")
    if unit != "mcg/ml":
        raise ProtocolError("E_UNITS", "concentration unit must be mcg/mL, got %r" % unit)
    conc = decimal(num, 0)
    if conc <= 0:
        raise ProtocolError("E_RANGE", "a concentration must be above 0 mcg/mL")
    return conc


def volume_nl(text):
    """'3.1mL' -> 3100000 nL; 'uL' and 'nL' accepted too."""
    num, unit = _split(text)
    if unit == "ml":
        return decimal(num, 6)
    if unit == "ul":
        return decimal(num, 3)
    if unit == "nl":
        return decimal(num, 0)
    raise ProtocolError("E_UNITS", "volume unit must be mL, uL or nL, got %r" % unit)


def duration_ms(text):
    """'1min' -> 60000; 's', 'min', 'h' accepted."""
    num, unit = _split(text)
    if unit == "s":
        return decimal(num, 3)
    if unit == "min":
        return decimal(num, 3) * 60
    if unit == "h":
        return decimal(num, 3) * 3600
    raise ProtocolError("E_UNITS", "duration unit must be s, min or h, got %r" % unit)


def time_of_day_ms(text):
    """'06:30' -> ms after midnight (device clock)."""
    hh, colon, mm = text.partition(":")
    if not colon or len(hh) != 2 or len(mm) != 2:
        raise ProtocolError("E_VALUE", "time of day must be HH:MM, got %r" % text)
    h = decimal(hh, 0)
    m = decimal(mm, 0)
    if h > 23 or m > 59:
        raise ProtocolError("E_RANGE", "time of day %r does not exist" % text)
    return (h * 60 + m) * 60000
