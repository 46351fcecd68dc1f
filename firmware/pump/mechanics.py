# Pump mechanics: turn syringe bore, lead screw and stepper resolution into the
# volume of one microstep. Integers only: lengths in micrometres, volumes in
# picolitres, so a 32-bit MicroPython port never touches a float here.

# Inner diameters (micrometres) and nominal volumes (mL) of common syringes, as
# listed in lab syringe-pump manuals' syringe tables. Verify against the datasheet
# of the syringe actually fitted: the bore is the largest source of volume error.
SYRINGES = {
    "bd-1ml": (4699, 1),
    "bd-3ml": (8585, 3),
    "bd-5ml": (11990, 5),
    "bd-10ml": (14430, 10),
    "bd-20ml": (19050, 20),
    "bd-30ml": (21590, 30),
    "bd-60ml": (26590, 60),
    "terumo-20ml": (20150, 20),
    "terumo-30ml": (23100, 30),
    "terumo-60ml": (29700, 60),
}

# pi as 355/113 is good to 8.5e-8, far below the bore tolerance of any syringe.
_PI_NUM = 355
_PI_DEN = 113

_LIMITS = (
    ("syringe_id_um", 1000, 40000),
    ("lead_um", 100, 20000),
    ("steps_per_rev", 24, 400),
    ("microsteps", 1, 256),
    ("capacity_nl", 1000000, 60000000),
)


class MechanicsError(ValueError):
    pass


def resolve(cfg):
    """Validate a mechanics mapping and return a complete copy.

    `cfg` names a syringe from SYRINGES or gives `syringe_id_um` explicitly; an
    explicit bore wins so a measured syringe can be configured.
    """
    out = {}
    for key in cfg:
        out[key] = cfg[key]
    name = out.get("syringe")
    if "syringe_id_um" not in out:
        if name not in SYRINGES:
            raise MechanicsError("unknown syringe %r" % (name,))
        out["syringe_id_um"] = SYRINGES[name][0]
    if "capacity_nl" not in out and name in SYRINGES:
        out["capacity_nl"] = SYRINGES[name][1] * 1000000
    for key, low, high in _LIMITS:
        value = out.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise MechanicsError("%s must be an integer" % key)
        if value < low or value > high:
            raise MechanicsError("%s=%d outside %d..%d" % (key, value, low, high))
    if out["microsteps"] & (out["microsteps"] - 1):
        raise MechanicsError("microsteps must be a power of two")
    if name in SYRINGES and out["capacity_nl"] > SYRINGES[name][1] * 1000000:
        raise MechanicsError("capacity exceeds the syringe's nominal volume")
    out["ustep_pl"] = ustep_pl(out)
    return out


def ustep_pl(m):
    """Volume displaced by one microstep, in picolitres, rounded up.

    Rounded up so the reservoir account (volume minus steps x this) can only err
    towards an emptier reservoir, never a fuller one."""
    d = m["syringe_id_um"]
    # um^3 per microstep = pi * d^2 / 4 * lead / (steps * microsteps); 1 pL = 1000 um^3
    num = _PI_NUM * d * d * m["lead_um"]
    den = _PI_DEN * 4 * m["steps_per_rev"] * m["microsteps"] * 1000
    return (num + den - 1) // den
