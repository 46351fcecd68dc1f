"""Ground-truth delivery log: one CSV row per microstep the plunger moved."""

from .clock import format_seconds

HEADER = "t_s,microsteps,delivered_ul\n"


class DeliveryLog:
    def __init__(self, path):
        self.path = path
        self._file = open(path, "w", buffering=1 << 20, newline="")
        self._file.write(HEADER)

    def row(self, t_us, microsteps, delivered_ul):
        self._file.write(f"{format_seconds(t_us)},{microsteps},{delivered_ul:.6f}\n")

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()
