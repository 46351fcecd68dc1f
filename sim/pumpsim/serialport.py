"""The firmware's serial line as a pseudo-terminal a host opens like a USB board."""

import os
import select
import threading
import time
import tty

# How long serial_write may stall on a host that is not reading before the rest
# of the data is dropped, like USB CDC with no terminal attached.
WRITE_STALL_S = 1.0


class PtyLine:
    def __init__(self):
        # Keeping our own slave fd open means the master never sees EIO when a
        # host closes the port, and a host can reopen it at any time.
        self._master, self._slave = os.openpty()
        # Raw: no echo, no line discipline, 8-bit clean, like a CDC ACM port.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.dropped = 0  # bytes discarded because nobody read them
        self._wake_r, self._wake_w = os.pipe()
        self._thread = None

    def start(self, on_bytes):
        """Start the reader thread, handing every chunk the host sends to `on_bytes`."""
        self._thread = threading.Thread(
            target=self._read_loop, args=(on_bytes,), name="pump-sim-serial", daemon=True
        )
        self._thread.start()

    def _read_loop(self, on_bytes):
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            if data:
                on_bytes(data)

    def write(self, data):
        view = memoryview(data)
        give_up = time.monotonic() + WRITE_STALL_S
        while view:
            try:
                n = os.write(self._master, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            left = give_up - time.monotonic()
            if left <= 0:
                break
            select.select([], [self._master], [], left)
        self.dropped += len(view)

    def close(self):
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)
