"""A fake pump for host tests: a thread answering on the far side of a pty pair.

It frames and parses lines with the firmware's own modules (firmware/pump/
lineio.py and request.py), so the host is tested against the device's real
framing rather than against its own idea of it. Test helper, not product code;
this module holds no tests.
"""

import os
import select
import sys
import threading
import tty
from collections.abc import Callable
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))

from pump import lineio, request  # noqa: E402  (needs FIRMWARE on the path)

# rid, words (upper case, verb first), args -> the lines to send back, terminators included
Handler = Callable[[str | None, list[str], dict[str, str]], list[str]]

STATUS_FIELDS = [
    ("state", "RUNNING"),
    ("reason", "start"),
    ("program", "CONT"),
    ("reservoir_nl", "18453999"),
    ("capacity_nl", "20000000"),
    ("conc_mcg_ml", "500"),
    ("prog_conc_mcg_ml", "500"),
    ("dose_ng_day", "150500"),
    ("rate_nl_day", "301000"),
    ("delivered_nl", "1546001"),
    ("ustep_pl", "2480"),
    ("bolus_ng", "0"),
    ("rtc_s", "1800000000"),
    ("alarms", "-"),
    ("total_ng_day", "150500"),
    ("total_nl_day", "301000"),
    ("low_nl", "4000000"),
    ("low_in_s", "4045727"),
    ("empty_in_s", "5193861"),
    ("low_alarm_rtc", "1804045727"),
    ("filled_rtc", "1799000000"),
]


def line(kind: str, rid: str | None, pairs: list[tuple[str, str]]) -> str:
    """A correctly framed device line, exactly as the firmware formats it."""
    return request.reply(kind, rid, pairs)


class FakePump:
    def __init__(self, proto: str = "1.0"):
        self.handlers: dict[str, Handler] = {
            "VERSION": lambda rid, words, args: [
                line(
                    "OK",
                    rid,
                    [("proto", proto), ("fw", "0.0-test"), ("board", "fake"), ("caps", "rig")],
                )
            ],
            "STATUS": lambda rid, words, args: [line("OK", rid, STATUS_FIELDS)],
        }
        self.received: list[str] = []  # every non-empty line, as received
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo even before the client configures the port
        self.path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakePump":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def send(self, text: str) -> None:
        os.write(self._master, text.encode("ascii"))

    def _serve(self) -> None:
        assembler = lineio.LineAssembler()
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:  # the slave side went away
                return
            lines: list = []
            assembler.feed(data, lines)
            for fault, text in lines:
                if fault:
                    self.send(line("ERR", None, [("code", "E_CHARSET")]))
                    continue
                self.received.append(text)
                for reply in self._answer(text):
                    self.send(reply)

    def _answer(self, text: str) -> list[str]:
        try:
            rid, words, args = request.parse(text)
        except request.ProtocolError as error:
            return [line("ERR", None, [("code", error.code), ("msg", error.msg)])]
        handler = self.handlers.get(words[0])
        if handler is None:
            return [line("ERR", rid, [("code", "E_VERB"), ("msg", "unknown verb")])]
        return handler(rid, words, args)
