# Raspberry Pi Pico + TMC2209 carrier in standalone STEP/DIR mode (no UART), BD
# 20 mL syringe on a Tr8x2 lead screw (2 mm lead), 200-step motor, 1/64 microstep
# selected by MS1/MS2. DIAG reports stall (StallGuard) or a driver fault.
# Wiring: docs/hardware.md.
from boards.drivers import TMC2209

BOARD = "pico-tmc2209"
DRIVER = TMC2209
PINS = {
    "step": 2,
    "dir": 3,
    "enable": 4,
    "ms": (5, 6),  # MS1, MS2
    "stall": 13,  # DIAG, active high
    "needle_detect": 14,
    "provision": 15,
    "led": "LED",
}
ACTIVE = {"stall": 1, "needle_detect": 0, "provision": 0, "dir_forward": 1}
MECHANICS = {
    "syringe": "bd-20ml",
    "capacity_nl": 20000000,
    "lead_um": 2000,
    "steps_per_rev": 200,
    "microsteps": 64,
}
