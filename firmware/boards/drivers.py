# STEP/DIR driver facts from the manufacturers' datasheets. Times in nanoseconds.
# `ms_levels` maps microsteps per full step to the levels of the driver's
# microstep-select pins, in the order the board's PINS["ms"] lists them.

# Allegro A4988 datasheet (A4988-DS Rev. 6), "Timing Requirements", Figure 1:
# STEP high 1 us min, STEP low 1 us min, DIR/MSx setup 200 ns, hold 200 ns.
# Table 1 "Microstepping Resolution Truth Table" (MS1, MS2, MS3).
A4988 = {
    "name": "a4988",
    "step_high_ns": 1000,
    "step_low_ns": 1000,
    "dir_setup_ns": 200,
    "enable_active": 0,  # ENABLE is active-low
    "wake_us": 1000,  # outputs usable 1 ms after leaving sleep/enable
    "ms_levels": {1: (0, 0, 0), 2: (1, 0, 0), 4: (0, 1, 0), 8: (1, 1, 0), 16: (1, 1, 1)},
}

# TI DRV8825 datasheet (SLVSA73F), 7.6 "Timing Requirements": tWH(STEP) 1.9 us,
# tWL(STEP) 1.9 us, tSU(STEP) DIR/MODE setup 650 ns, tWAKE 1.7 ms (nSLEEP).
# Table 2 "Microstepping Indexer" (MODE0, MODE1, MODE2).
DRV8825 = {
    "name": "drv8825",
    "step_high_ns": 1900,
    "step_low_ns": 1900,
    "dir_setup_ns": 650,
    "enable_active": 0,  # nENBL is active-low
    "wake_us": 1700,
    "ms_levels": {
        1: (0, 0, 0),
        2: (1, 0, 0),
        4: (0, 1, 0),
        8: (1, 1, 0),
        16: (0, 0, 1),
        32: (1, 0, 1),
    },
}

# Trinamic/ADI TMC2209 datasheet (Rev. 1.09), "STEP/DIR Timing": tSH, tSL
# >= max(tFILTSD, tCLK + 20 ns), about 100 ns; DIR-to-STEP setup tDSU 20 ns.
# Standalone microstep selection by MS1, MS2 ("MS1/MS2 configuration" table):
# 00 -> 8, 10 -> 32, 01 -> 64, 11 -> 16 (UART mode reaches 256; not used here).
TMC2209 = {
    "name": "tmc2209",
    "step_high_ns": 100,
    "step_low_ns": 100,
    "dir_setup_ns": 20,
    "enable_active": 0,  # ENN is active-low
    "wake_us": 0,
    "ms_levels": {8: (0, 0), 16: (1, 1), 32: (1, 0), 64: (0, 1)},
}
