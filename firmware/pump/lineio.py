# Serial line assembly: bytes in, complete lines (or a reason to reject one) out.
# Hostile input must never grow memory or hang the loop, so the buffer is fixed
# and an over-long line is dropped up to its terminator.

MAX_LINE = 480

TOO_LONG = 1
BAD_CHAR = 2


class LineAssembler:
    def __init__(self):
        self._buf = bytearray(MAX_LINE)
        self._len = 0
        self._fault = 0

    def feed(self, data, out):
        """Append (fault, line) pairs to `out` for every terminated line in `data`.

        fault is 0 for a usable line (then line is a str), TOO_LONG or BAD_CHAR.
        Empty lines are dropped: a CR LF pair would otherwise read as two lines.
        """
        for b in data:
            if b == 10 or b == 13:
                if self._fault:
                    out.append((self._fault, None))
                elif self._len:
                    out.append((0, bytes(self._buf[: self._len]).decode()))
                self._len = 0
                self._fault = 0
            elif self._fault == TOO_LONG:
                continue
            elif b == 8 or b == 127:
                # a technician's backspace in a terminal without line editing
                if self._len:
                    self._len -= 1
            elif self._len >= MAX_LINE:
                self._fault = TOO_LONG
            else:
                if (b < 32 and b != 9) or b > 126:
                    self._fault = self._fault or BAD_CHAR
                self._buf[self._len] = b
                self._len += 1
