# Raspberry Pi Pico + Allegro A4988 carrier, BD 20 mL syringe on an M5 threaded
# rod (0.8 mm lead), 200-step motor, 1/16 microstep (the A4988's finest).
# Wiring: docs/hardware.md.
from boards.drivers import A4988

BOARD = "pico-a4988"
DRIVER = A4988
PINS = {
    "step": 2,
    "dir": 3,
    "enable": 4,
    "ms": (5, 6, 7),  # MS1, MS2, MS3
    "needle_detect": 14,
    "provision": 15,
    "led": "LED",
}
ACTIVE = {"needle_detect": 0, "provision": 0, "dir_forward": 1}
MECHANICS = {
    "syringe": "bd-20ml",
    "capacity_nl": 20000000,
    "lead_um": 800,
    "steps_per_rev": 200,
    "microsteps": 16,
}
