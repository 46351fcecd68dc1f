"""Command round-trip latency on the simulator's pty, beside the time the same
bytes would take on the wire of a 115200-baud 8N1 link (10 bits a byte: start,
8 data, stop). A USB CDC link has no baud rate; the floor says what a plain
UART at the customary speed would add."""

import math
import statistics
import time

from pumphost.errors import ProtocolError

from ..commissioned import TechnicianPump
from .bench_pump import BenchPump

BAUD = 115_200
BITS_PER_BYTE = 10
VERBS = ("STATUS", "VERSION")


class CountingClient(TechnicianPump):
    """A technician's client that counts the bytes it sends and the reply bytes
    it consumes."""

    def __init__(self, *args, **kwargs):
        self.sent = 0
        self.received = 0
        super().__init__(*args, **kwargs)

    def _write(self, data):
        self.sent += len(data)
        super()._write(data)

    def _take_buffered_line(self):
        before = len(self._pending)
        line = super()._take_buffered_line()
        self.received += before - len(self._pending)
        return line


def round_trips(runtime, count):
    """`count` requests of each verb on a provisioned, logged-in, idle pump."""
    results = {}
    with BenchPump(runtime, client_class=CountingClient) as bp:
        client = bp.pump
        assert isinstance(client, CountingClient)
        for verb in VERBS:
            client.sent = client.received = 0
            times, bad = [], []
            for _ in range(count):
                started = time.perf_counter()
                try:
                    client.request(verb)
                except ProtocolError as error:
                    # A corrupt reply is a finding to report, not a reason to stop.
                    bad.append(str(error))
                    continue
                times.append(time.perf_counter() - started)
            results[verb] = _summary(times, client.sent / count, client.received / count)
            results[verb]["corrupt_replies"] = len(bad)
            results[verb]["first_corrupt_reply"] = bad[0] if bad else None
    return results


def _summary(times, sent, received):
    ms = sorted(t * 1000 for t in times)
    wire_bytes = sent + received
    return {
        "count": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[math.ceil(0.99 * len(ms)) - 1], 3),  # nearest rank
        "max_ms": round(ms[-1], 3),
        "bytes_request": round(sent, 1),
        "bytes_reply": round(received, 1),
        "wire_floor_ms_115200_8n1": round(wire_bytes * BITS_PER_BYTE / BAUD * 1000, 3),
    }
