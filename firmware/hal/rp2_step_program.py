# Loads the words of hal/step_pio.py into MicroPython's PIO assembler. It lives in
# its own module because rp2.asm_pio swaps the decorated function's module
# globals while it assembles; nothing else here can be disturbed by that.
import rp2

from hal import step_pio


def assemble(high_cycles):
    words = step_pio.program(high_cycles)

    # `words` is a default argument: inside the assembler only its own directives
    # (wrap_target, word, wrap) are globals.
    @rp2.asm_pio(sideset_init=rp2.PIO.OUT_LOW, out_shiftdir=rp2.PIO.SHIFT_RIGHT)
    def step_train(words=words):
        wrap_target()  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        for w in words:
            word(w)  # noqa: F821  # pyright: ignore[reportUndefinedVariable]
        wrap()  # noqa: F821  # pyright: ignore[reportUndefinedVariable]

    return step_train
