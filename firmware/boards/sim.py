# The simulator's board: no pins, the mechanics of a 20 mL reservoir built from a
# BD 20 mL syringe on an 0.8 mm-lead screw (M5), 200-step motor, 1/16 microstepping.
BOARD = "sim"
MECHANICS = {
    "syringe": "bd-20ml",
    "capacity_nl": 20000000,
    "lead_um": 800,
    "steps_per_rev": 200,
    "microsteps": 16,
}
