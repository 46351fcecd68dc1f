# Raspberry Pi Pico + TI DRV8825 carrier (Pololu-style footprint), BD 20 mL
# syringe on an M5 threaded rod (0.8 mm lead), 200-step motor, 1/32 microstep.
# Wiring: docs/hardware.md.
from boards.drivers import DRV8825

BOARD = "pico-drv8825"
DRIVER = DRV8825
PINS = {
    "step": 2,
    "dir": 3,
    "enable": 4,
    "ms": (5, 6, 7),  # MODE0, MODE1, MODE2
    "needle_detect": 14,  # septum needle switch to GND, active low
    "provision": 15,  # maintenance/provisioning jumper to GND, active low
    "led": "LED",  # on-board LED (GP25 on Pico, CYW43 pin on Pico W)
}
ACTIVE = {"needle_detect": 0, "provision": 0, "dir_forward": 1}
MECHANICS = {
    "syringe": "bd-20ml",
    "capacity_nl": 20000000,
    "lead_um": 800,
    "steps_per_rev": 200,
    "microsteps": 32,
}
