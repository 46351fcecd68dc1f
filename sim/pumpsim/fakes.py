"""Stand-in firmware trees for testing and benchmarking the simulator on its
own, without the real firmware. Each is a `main.py` source with `run(hal)`;
`write_firmware(directory, source)` makes a firmware directory of it."""

import shutil
from pathlib import Path

# Line commands on the serial port, one reply line each:
#   T                 -> "<ticks_ms> <step_count> <reset_cause> <rtc_s>"
#   Q<count>,<iv_us>  -> queue a segment starting now (driver enabled) -> "True"/"False"
#   W<name>=<data>    -> fs_write -> "ok"
#   R<name>           -> fs_read -> repr of the bytes or None
#   X                 -> raise an exception (firmware crash)
#   anything else     -> "echo <line>"
ECHO = """
def run(hal):
    buf = b""
    while True:
        buf += hal.serial_read()
        while b"\\n" in buf:
            line, buf = buf.split(b"\\n", 1)
            reply(hal, line)
        hal.idle(1000)


def reply(hal, line):
    if line == b"T":
        cause = hal.reset_cause().encode()
        out = b"%d %d %s %d" % (hal.ticks_ms(), hal.step_count(), cause, hal.rtc_s())
    elif line.startswith(b"Q"):
        count, interval = line[1:].split(b",")
        hal.driver_enable(True)
        out = b"%r" % hal.step_queue(hal.ticks_us(), int(count), int(interval))
    elif line.startswith(b"W"):
        name, data = line[1:].split(b"=", 1)
        hal.fs_write(name.decode(), data)
        out = b"ok"
    elif line.startswith(b"R"):
        out = b"%r" % (hal.fs_read(line[1:].decode()),)
    elif line == b"X":
        raise RuntimeError("crash requested")
    else:
        out = b"echo " + line
    hal.serial_write(out + b"\\n")
"""

# A day of basal infusion: one microstep every BASAL_US, plus a bolus of
# BOLUS_STEPS at BOLUS_INTERVAL_US starting BOLUS_AT_US after boot. Elapsed time
# is accumulated through ticks_diff, as real firmware must across the wrap.
BASAL = """
BASAL_US = %(basal_us)d
BOLUS_AT_US = %(bolus_at_us)d
BOLUS_STEPS = %(bolus_steps)d
BOLUS_INTERVAL_US = %(bolus_interval_us)d
LOOKAHEAD_US = 60000000


def run(hal):
    hal.driver_enable(True)
    last = hal.ticks_us()
    elapsed = 0
    next_basal = BASAL_US
    bolus_due = BOLUS_STEPS > 0
    while True:
        now = hal.ticks_us()
        elapsed += hal.ticks_diff(now, last)
        last = now
        while hal.step_pending() < 2:
            if bolus_due and BOLUS_AT_US <= next_basal and BOLUS_AT_US - elapsed < LOOKAHEAD_US:
                start = hal.ticks_add(now, BOLUS_AT_US - elapsed)
                hal.step_queue(start, BOLUS_STEPS, BOLUS_INTERVAL_US)
                bolus_due = False
            elif next_basal - elapsed < LOOKAHEAD_US:
                hal.step_queue(hal.ticks_add(now, next_basal - elapsed), 1, 0)
                next_basal += BASAL_US
            else:
                break
        hal.idle(30000)
"""


def basal_source(
    basal_us=30_000_000, bolus_at_us=43_200_000_000, bolus_steps=14_000, bolus_interval_us=4_285
):
    return BASAL % {
        "basal_us": basal_us,
        "bolus_at_us": bolus_at_us,
        "bolus_steps": bolus_steps,
        "bolus_interval_us": bolus_interval_us,
    }


def write_firmware(directory, source, mechanics_from=None):
    """Write `source` as `directory/main.py`. With `mechanics_from` (a firmware
    directory), also copy its sim board file and mechanics validator, so the
    simulator can build its plant from the tree alone (as the CLI does)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.py").write_text(source)
    if mechanics_from is not None:
        for part in ("boards/sim.py", "pump/mechanics.py"):
            (directory / part).parent.mkdir(exist_ok=True)
            shutil.copyfile(Path(mechanics_from) / part, directory / part)
    return directory
