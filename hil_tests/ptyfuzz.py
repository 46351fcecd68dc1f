"""Protocol fuzzing through the serial line of a running device (simulator or board).

Inputs are pipelined in batches: each input's bytes, its LF, then a marker
`@<MARK>N VERSION`. The device must answer every marker (it still answers) and,
between two markers, send exactly the final replies the input is owed
(fuzzlines.expected_finals). Around each batch a technician's client checks the
therapy fields of STATUS: a batch may change none of them, except the run state
to REFILL and back when the batch typed a REFILL procedure step.
"""

import sys
import threading
import time
from pathlib import Path

import serial

# The generator and the reply model live with the unit tests (tests/fuzzlines.py).
TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
import fuzzlines  # noqa: E402  # pyright: ignore[reportMissingImports]

from pumphost import auth  # noqa: E402
from pumphost.client import PumpClient  # noqa: E402

MARK = "_-fz"  # a request id the generated ids practically never equal
# STATUS fields the fuzz may not move (alarms may be acknowledged; rtc is frozen anyway)
THERAPY_FIELDS = (
    "state", "reason", "program", "reservoir_nl", "capacity_nl", "conc_mcg_ml",
    "prog_conc_mcg_ml", "dose_ng_day", "rate_nl_day", "delivered_nl", "bolus_ng",
    "total_ng_day", "total_nl_day",
)  # fmt: skip
READ_TIMEOUT_S = 30.0


class PtyFuzz:
    def __init__(self, port, key, role="tech"):
        self.port = port
        self.key = key
        self.role = role
        self.tally = fuzzlines.Tally()
        self.batches = 0

    def therapy(self):
        """Therapy fields of STATUS, logging in first if the fuzz ended the session."""
        with PumpClient(self.port, timeout=10.0) as client:
            if auth.session_status(client).get("role") == "none":
                locked = int(auth.session_status(client).get("locked_s", "0"))
                if not locked:
                    auth.authenticate(client, self.role, "fuzz", key=self.key)
            fields = client.request("STATUS").fields
        return {k: fields.get(k) for k in THERAPY_FIELDS}

    def batch(self, inputs):
        before = self.therapy()
        payload = bytearray()
        for i, data in enumerate(inputs):
            payload += data + b"\n" + f"@{MARK}{i} VERSION\n".encode()
        lines = self._exchange(bytes(payload), f"@{MARK}{len(inputs) - 1} ")
        per_input = [[] for _ in inputs]
        i = 0
        for line in lines:
            if not fuzzlines.framed(line):
                raise fuzzlines.InvariantBroken(f"unframed device line {line!r}")
            if line.startswith(f"@{MARK}{i} "):
                if " OK proto=" not in line:
                    raise fuzzlines.InvariantBroken(f"VERSION refused after {inputs[i]!r}: {line}")
                i += 1
            elif i < len(inputs):
                per_input[i].append(line)
        for data, got in zip(inputs, per_input, strict=True):
            owed, discarded = fuzzlines.expected_finals(data)
            finals = fuzzlines.finals(got)
            if len(finals) != owed:
                raise fuzzlines.InvariantBroken(f"{data!r}: {owed} final replies owed, got {got!r}")
            if any(fuzzlines.err_code(ln) == "E_INTERNAL" for ln in finals):
                self.tally.crashes += 1
                raise fuzzlines.InvariantBroken(f"{data!r}: handler failed: {finals!r}")
            self.tally.add(finals, discarded)
        after = self.therapy()
        typed_refill = any(b"REFILL" in d.upper() for d in inputs)
        for key in THERAPY_FIELDS:
            if after[key] != before[key] and not (key == "state" and typed_refill):
                raise fuzzlines.InvariantBroken(
                    f"batch changed {key}: {before[key]} -> {after[key]} ({inputs!r})"
                )
        self.batches += 1

    def _exchange(self, payload, last_mark):
        """Write the batch from a thread while reading, so neither side stalls."""
        link = serial.serial_for_url(self.port, timeout=0.05)
        try:
            writer = threading.Thread(target=link.write, args=(payload,), daemon=True)
            writer.start()
            buf = b""
            lines = []
            deadline = time.monotonic() + READ_TIMEOUT_S
            while time.monotonic() < deadline:
                buf += link.read(4096)
                *done, buf = buf.split(b"\r\n")
                lines += [ln.decode("ascii") for ln in done if ln]
                if lines and lines[-1].startswith(last_mark):
                    writer.join()
                    return lines
            raise fuzzlines.InvariantBroken(f"device stopped answering: last {lines[-3:]!r}")
        finally:
            link.close()
