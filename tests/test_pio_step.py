"""The RP2040 STEP program (firmware/hal/step_pio.py) on rp2040-pio-emulator.

The firmware assembles exactly these words (checked below through a stand-in
rp2 module that behaves like MicroPython's asm_pio), so what passes here is the
program the board runs. One PIO cycle is one microsecond on the board.
"""

import os
import sys
import types
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pioemu import State, emulate

FIRMWARE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "firmware")
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

from boards import drivers  # noqa: E402
from hal import step_pio  # noqa: E402

STEP = 0  # side-set base in the emulation; pin 1 receives the side-set enable bit
HIGHS = sorted(
    {
        (d["step_high_ns"] + 999) // 1000 + 1
        for d in (drivers.A4988, drivers.DRV8825, drivers.TMC2209)
    }
)


def run(words, units, high, max_cycles=2_000_000, stop_at=None):
    """Emulate until every unit has signalled completion (or `stop_at` cycles).
    Returns (rising edge cycles, high widths, final state, every state)."""
    fifo = []
    for count, period, gap in units:
        fifo.extend(step_pio.unit_words(count, period, gap, high))
    start = State()
    start.transmit_fifo.extend(fifo)
    rises, widths, states = [], [], []
    done = len(units)

    def stop(_opcode, state):
        if stop_at is not None:
            return state.clock >= stop_at
        finished = len(state.receive_fifo) == done and state.program_counter == step_pio.TOP
        return finished or state.clock > max_cycles

    last = start
    for prev, cur in emulate(
        list(words),
        stop_when=stop,
        initial_state=start,
        side_set_base=STEP,
        side_set_count=2,
        shift_osr_right=True,
        wrap_target=step_pio.TOP,
        wrap_top=step_pio.DONE,
    ):
        was, now = prev.pin_values >> STEP & 1, cur.pin_values >> STEP & 1
        if now and not was:
            rises.append(prev.clock)
        elif was and not now:
            widths.append(prev.clock - rises[-1])
        states.append(cur)
        last = cur
    return rises, widths, last, states


def check_units(units, high):
    words = step_pio.program(high)
    rises, widths, final, _ = run(words, units, high)
    total = sum(c for c, _p, _g in units)
    assert len(rises) == total
    assert len(final.receive_fifo) == len(units)  # one completion per unit
    assert final.pin_values >> STEP & 1 == 0
    assert not final.transmit_fifo and final.program_counter == step_pio.TOP
    assert all(w == high for w in widths) and len(widths) == total
    i = 0
    expected = step_pio.START_OVERHEAD + units[0][2]
    for n, (count, period, gap) in enumerate(units):
        if n:
            expected = rises[i - 1] + step_pio.chain_overhead(high) + gap
        for k in range(count):
            assert rises[i] == expected + k * period, (n, k)
            i += 1


@pytest.mark.parametrize("high", HIGHS)
def test_fixed_units(high):
    check_units([(1, 0, 0)], high)
    check_units([(5, 200, 10), (3, 40, 0), (1, 0, 900)], high)
    check_units([(3, 16000, 0)], high)  # the slowest PIO-timed interval


@settings(max_examples=40, deadline=None)
@given(
    high=st.sampled_from(HIGHS),
    units=st.lists(
        st.tuples(st.integers(1, 12), st.integers(0, 300), st.integers(0, 300)),
        min_size=1,
        max_size=2,
    ),
)
def test_random_units(high, units):
    units = [(c, step_pio.period_overhead(high) + extra, gap) for c, extra, gap in units]
    check_units(units, high)


def test_pulse_widths_meet_driver_minimums():
    for d in (drivers.A4988, drivers.DRV8825, drivers.TMC2209):
        high = (d["step_high_ns"] + 999) // 1000 + 1
        assert high * 1000 >= d["step_high_ns"]
        # the shortest period the program can make still leaves STEP low long enough
        low = step_pio.period_overhead(high) - high
        assert low * 1000 >= d["step_low_ns"]


@settings(max_examples=30, deadline=None)
@given(count=st.integers(1, 8), extra=st.integers(0, 40), gap=st.integers(0, 40), data=st.data())
def test_halt_anywhere_reads_exact_count(count, extra, gap, data):
    """Halting the state machine at any instruction boundary and reading PC and X
    gives exactly the edges emitted so far (what step_stop() relies on)."""
    high = HIGHS[-1]
    period = step_pio.period_overhead(high) + extra
    words = step_pio.program(high)
    rises, _w, _f, states = run(words, [(count, period, gap)], high)
    state = data.draw(st.sampled_from(states))
    seen = sum(1 for r in rises if r < state.clock)
    if state.receive_fifo:  # completion already pushed: the unit is whole
        assert seen == count
    else:
        assert step_pio.emitted(count, state.program_counter, state.x_register) == seen


def test_unit_words_reject_what_the_program_cannot_do():
    high = 3
    with pytest.raises(ValueError):
        step_pio.unit_words(0, 100, 0, high)
    with pytest.raises(ValueError):
        step_pio.unit_words(2, step_pio.period_overhead(high) - 1, 0, high)
    with pytest.raises(ValueError):
        step_pio.unit_words(2, 100, step_pio.GAP_MAX + 1, high)
    # the packed word stays a MicroPython small int (no allocation on the board)
    _count, packed = step_pio.unit_words(
        2, step_pio.SPIN_MAX + step_pio.period_overhead(high), step_pio.GAP_MAX, high
    )
    assert packed < 1 << 30


class _FakeAsmPio:
    """Stand-in for MicroPython's rp2.asm_pio: like the real one it replaces the
    program function's globals with the assembler directives and runs it twice."""

    def __init__(self):
        self.calls = []

    def __call__(self, **kw):
        def decorate(func):
            record = {"kw": kw, "words": [], "wrap_target": None, "wrap": None}
            directives = {
                "wrap_target": lambda: record.__setitem__("wrap_target", len(record["words"])),
                "wrap": lambda: record.__setitem__("wrap", len(record["words"]) - 1),
                "word": lambda w, label=None: record["words"].append(w),
            }
            saved = dict(func.__globals__)
            for _pass in range(2):
                record["words"].clear()
                func.__globals__.clear()
                func.__globals__.update(directives)
                try:
                    func()
                finally:
                    func.__globals__.clear()
                    func.__globals__.update(saved)
            self.calls.append(record)
            return record

        return decorate


@pytest.mark.parametrize("high", HIGHS)
def test_firmware_assembles_the_tested_words(high, monkeypatch):
    asm = _FakeAsmPio()
    pio = types.SimpleNamespace(OUT_LOW=2, SHIFT_RIGHT=1)
    fake_rp2 = types.SimpleNamespace(asm_pio=asm, PIO=pio)
    monkeypatch.setitem(sys.modules, "rp2", fake_rp2)
    monkeypatch.delitem(sys.modules, "hal.rp2_step_program", raising=False)
    from hal import rp2_step_program

    try:
        # the fake assembler returns its record of what it was given
        prog = cast(dict, rp2_step_program.assemble(high))
    finally:
        sys.modules.pop("hal.rp2_step_program", None)
    assert tuple(prog["words"]) == step_pio.program(high)
    assert prog["wrap_target"] == step_pio.TOP and prog["wrap"] == step_pio.DONE
    assert prog["kw"] == {"sideset_init": 2, "out_shiftdir": 1}
    # raw words leave side-set optional in MicroPython's assembler: every
    # instruction must carry the enable bit
    assert all(w & (1 << 12) for w in prog["words"])
