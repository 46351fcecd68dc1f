# The RP2040 STEP pulse-train program, as 16-bit PIO instruction words.
#
# This module is the single source of the program: the board driver loads these
# words through rp2.asm_pio (hal/rp2_step_program.py) and the desktop test runs the
# same words in rp2040-pio-emulator. It imports nothing board-specific.
#
# One "unit" = two TX FIFO words: COUNT (>= 1), then (SPIN << 16) | GAP.
#   - wait GAP+1 cycles, emit the first rising edge;
#   - every further edge comes PERIOD cycles after the previous one;
#   - X holds the steps still to emit and is decremented by the very instruction
#     that raises STEP, so (COUNT - X) is always the number of edges emitted;
#   - after the last edge the program pushes one word to the RX FIFO (completion)
#     and stalls on the next PULL with STEP low.
# Encodings follow the RP2040 datasheet section 3.4. MicroPython's assembler makes
# side-set optional when instructions come in as raw words, so the delay/side-set
# field is: bit 12 side-set enable, bit 11 STEP level, bits 10..8 delay.

_SIDE_ON = 1 << 12
_STEP_HIGH = 1 << 11
MAX_DELAY = 7

# jmp conditions, mov/out operands (RP2040 datasheet 3.4.2, 3.4.5, 3.4.8)
_ALWAYS = 0
_NOT_X = 1
_X_DEC = 2
_Y_DEC = 4
_X = 1
_Y = 2
_ISR = 6
_OSR = 7

# Addresses of the program's instructions.
TOP = 0
GAP_LOOP = 4
EDGE = 5
SPIN_LOOP = 8
DONE = 10
LENGTH = 11


def _field(step, delay):
    return _SIDE_ON | (_STEP_HIGH if step else 0) | (delay << 8)


def _jmp(cond, addr, step=0, delay=0):
    return (cond << 5) | addr | _field(step, delay)


def _mov(dst, src):
    return 0xA000 | (dst << 5) | src | _field(0, 0)


def _out(dst, bits):
    return 0x6000 | (dst << 5) | (bits & 31) | _field(0, 0)


PULL_BLOCK = 0x80A0 | _field(0, 0)
PUSH_NOBLOCK = 0x8000 | _field(0, 0)
# Executed by the driver on a halted state machine to read X back.
READ_X = (0xA000 | (_ISR << 5) | _X | _field(0, 0), PUSH_NOBLOCK)


def program(high_cycles):
    """Instruction words for a STEP high time of `high_cycles` PIO cycles."""
    if high_cycles < 1 or high_cycles > MAX_DELAY + 1:
        raise ValueError("high_cycles outside 1..%d" % (MAX_DELAY + 1))
    return (
        PULL_BLOCK,  # 0 TOP: COUNT
        _mov(_X, _OSR),  # 1
        PULL_BLOCK,  # 2 (SPIN << 16) | GAP
        _out(_Y, 16),  # 3 Y = GAP, OSR keeps SPIN
        _jmp(_Y_DEC, GAP_LOOP),  # 4 GAP_LOOP
        _jmp(_X_DEC, EDGE + 1, 1, high_cycles - 1),  # 5 EDGE: STEP high, X -= 1
        _jmp(_NOT_X, DONE),  # 6 STEP low; last edge emitted?
        _mov(_Y, _OSR),  # 7
        _jmp(_Y_DEC, SPIN_LOOP),  # 8 SPIN_LOOP
        _jmp(_ALWAYS, EDGE),  # 9
        PUSH_NOBLOCK,  # 10 DONE, then wrap to TOP
    )


# Cycle budget of the program, used by the driver to turn microseconds into words.
def period_overhead(high_cycles):
    """Cycles between two edges of one unit other than the SPIN loop: PERIOD = SPIN + this."""
    return high_cycles + 4


def chain_overhead(high_cycles):
    """Cycles from a unit's last edge to the next unit's first edge, beyond GAP,
    when the next unit's words are already waiting in the TX FIFO."""
    return high_cycles + 7


# From the cycle the first word lands in an empty, stalled FIFO to the first edge,
# beyond GAP (pull, mov, pull, out, and the last GAP_LOOP turn).
START_OVERHEAD = 5

# SPIN and GAP travel in 16-bit fields; SPIN stays below 2**14 so the packed word
# is a MicroPython small int and never allocates.
SPIN_MAX = (1 << 14) - 1
GAP_MAX = (1 << 16) - 1


def unit_words(count, period, gap, high_cycles):
    """The two TX FIFO words of a unit, or ValueError if it cannot be expressed."""
    if count < 1:
        raise ValueError("count must be >= 1")
    spin = period - period_overhead(high_cycles) if count > 1 else 0
    if spin < 0 or spin > SPIN_MAX or gap < 0 or gap > GAP_MAX:
        raise ValueError("period or gap out of range")
    return count, (spin << 16) | gap


def emitted(count, pc, x):
    """Edges of a unit emitted when its state machine was halted at relative
    address `pc` with X = `x` (before instruction 1 runs, X is stale)."""
    if pc <= 1:
        return 0
    return count - x
