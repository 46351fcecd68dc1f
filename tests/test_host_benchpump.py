"""The real firmware controller on the far side of a pty pair, for host tests.

A thread feeds the bytes pumpctl writes into a `corehal.Bench` (the firmware
core on a virtual clock) and writes the controller's replies back, so the host
is tested against the device's real validation, two-phase tokens and refill
state machine. Virtual time stands still unless a test moves it, so a proposal
never lapses while a test is deciding. The device has one technician session,
not one per connection: the bench keeps it logged in (corehal.Bench), so
pumpctl's requests on the pty run inside it. Test helper, not product code; this
module holds no tests.
"""

import io
import os
import select
import threading
import tty

import corehal

CTRL_C = object()  # a scripted "answer" that presses Ctrl-C at the prompt


class BenchPump:
    def __init__(self, bench: corehal.Bench):
        self.bench = bench
        self.received: list[bytes] = []  # every chunk pumpctl wrote
        self.lock = threading.Lock()  # the controller is single-threaded
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "BenchPump":
        self.bench.hal.tx.clear()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def status(self) -> dict[str, str]:
        """STATUS straight from the controller, bypassing the host code under test."""
        with self.lock:
            return self.bench.ok("STATUS")

    def snapshot(self) -> dict:
        """Everything the device would persist, plus what it holds in memory only."""
        with self.lock:
            ctl = self.bench.ctl
            return {
                "record": ctl.snapshot(),
                "refill": ctl.refill,
                "pending": ctl.pending,
                "hold": ctl.therapy.hold,
            }

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            self.received.append(data)
            with self.lock:
                if not self.bench.session_live():
                    self.bench.login()
                hal = self.bench.hal
                hal.tx.clear()
                hal.rx += data
                self.bench.ctl.poll()
                out = bytes(hal.tx)
                hal.tx.clear()
            if out:
                os.write(self._master, out)


class Terminal(io.StringIO):
    """stdin of a technician at a terminal, answering prompts from a script."""

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers)
        self.asked = 0

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if not self.answers:
            return ""  # end of input
        self.asked += 1
        answer = self.answers.pop(0)
        if answer is CTRL_C:
            raise KeyboardInterrupt
        return answer + "\n"


def filled_bench(conc: int = 500, volume: str = "18mL") -> corehal.Bench:
    """A provisioned pump with its first fill committed (no programme yet)."""
    bench = corehal.Bench()
    bench.ok("REFILL BEGIN")
    bench.ok("REFILL ASPIRATED vol=0mL probe=2mL back=2mL")
    bench.confirm(f"REFILL FILL vol={volume} conc={conc}mcg/mL conc2={conc}mcg/mL")
    return bench


def running_bench() -> corehal.Bench:
    """Filled, programmed for 150 mcg/day at 500 mcg/mL, and running."""
    bench = filled_bench()
    bench.confirm("PROGRAM CONT dose=150mcg/day conc=500mcg/mL")
    bench.confirm("START")
    return bench
