# Generic ESP32 DevKit (ESP32-WROOM-32) + TI DRV8825 carrier, BD 20 mL syringe on
# a Tr8x2 lead screw (2 mm lead), 200-step motor, 1/32 microstep. Pins avoid the
# strapping pins (0, 2, 5, 12, 15), the flash pins (6-11), PSRAM pins (16, 17) and
# the input-only pins without pull-ups (34-39). Wiring: docs/hardware.md.
from boards.drivers import DRV8825

BOARD = "esp32-devkit"
DRIVER = DRV8825
PINS = {
    "step": 25,
    "dir": 26,
    "enable": 27,
    "ms": (18, 19, 21),  # MODE0, MODE1, MODE2
    "needle_detect": 22,
    "provision": 23,
    "led": 2,  # on-board LED of most DevKits; a strapping pin, only driven after boot
}
ACTIVE = {"needle_detect": 0, "provision": 0, "dir_forward": 1}
MECHANICS = {
    "syringe": "bd-20ml",
    "capacity_nl": 20000000,
    "lead_um": 2000,
    "steps_per_rev": 200,
    "microsteps": 32,
}
