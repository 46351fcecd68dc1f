"""PumpClient: one serial connection to a pump speaking protocol v1.

Requests carry a unique id and a check value; the reply is the device line
echoing that id. Lines the device pushes on its own (`! ALARM`, `! EVENT`) may
arrive at any time, including between a request and its reply: they are kept
for the caller and never mistaken for a reply. Not thread-safe: one caller at
a time per client.
"""

import errno
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import serial

from pumphost import wire
from pumphost.errors import PortUnavailable, ProtocolError, PumpError, PumpTimeout
from pumphost.identity import Identity
from pumphost.status import PumpStatus
from pumphost.wire import DeviceLine

DEFAULT_TIMEOUT_S = 3.0
# Longest wait inside one read call; bounds how late a timeout can be noticed.
_READ_SLICE_S = 0.05
# A device line is at most a few hundred bytes; this much without a terminator
# means the other end is not a pump.
_MAX_PENDING_BYTES = 64 * 1024
_ID_COUNTER_LIMIT = 10**7


@dataclass(frozen=True)
class Reply:
    """The final OK line of a request, with the ROW lines that came before it."""

    request_id: str
    fields: dict[str, str]
    words: tuple[str, ...]
    rows: tuple[DeviceLine, ...]


def _is_url(port: str) -> bool:
    return "://" in port


def _open_port(port: str) -> serial.Serial:
    try:
        # Every URL handler pyserial returns has the full Serial interface.
        link = cast(
            serial.Serial, serial.serial_for_url(port, do_not_open=True, timeout=_READ_SLICE_S)
        )
    except ValueError as error:  # unknown URL scheme
        raise PortUnavailable(f"cannot open {port}: {error}") from None
    # Two programs writing one pump's serial line would interleave requests.
    if not _is_url(port):
        link.exclusive = True
    try:
        link.open()
    except (serial.SerialException, OSError) as error:
        raise PortUnavailable(f"cannot open {port}: {_open_failure(error)}") from None
    return link


def _open_failure(error: Exception) -> str:
    number = getattr(error, "errno", None)
    if number == errno.ENOENT:
        return "no such port (is the board plugged in? try `pumpctl ports`)"
    if number == errno.EACCES:
        return "permission denied (on Linux, add yourself to the dialout group)"
    if number == errno.EBUSY or "exclusively lock" in str(error):
        return "port is busy (another program has it open)"
    return " ".join(str(error).split())


class PumpClient:
    def __init__(
        self,
        port: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        on_unsolicited: Callable[[DeviceLine], None] | None = None,
    ):
        """Open `port` (a path or pyserial URL) and check the device's protocol version.

        Raises PortUnavailable, PumpTimeout, ProtocolError or IncompatibleDevice.
        """
        self.port = port
        self.timeout = timeout
        self.on_unsolicited = on_unsolicited
        self._unsolicited: list[DeviceLine] = []
        self._pending = bytearray()
        # A random prefix keeps a late reply to an earlier connection's request
        # from matching one of ours.
        self._id_prefix = secrets.token_hex(2)
        self._id_counter = itertools.count(1)
        self._link = _open_port(port)
        try:
            # Ends anything half-typed on the line so our first request starts clean;
            # the device ignores empty lines.
            self._write(b"\n")
            self.identity = self.identify()
            self.identity.require_compatible()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "PumpClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._link.close()

    def request(self, verb: str, /, *words: str, **args: str | int) -> Reply:
        """Send one request and return its reply; ERR raises PumpError.

        The timeout bounds the device's silence: each ROW line of a long list
        restarts it.
        """
        request_id = self._next_id()
        self._write(wire.encode_request(request_id, verb, words, args))
        rows: list[DeviceLine] = []
        deadline = time.monotonic() + self.timeout
        while True:
            line = self._read_line(deadline, verb)
            if line.unsolicited:
                self._keep_unsolicited(line)
                continue
            if line.request_id != request_id:
                # A reply to an abandoned request, or to someone typing without ids.
                continue
            if line.kind == "ROW":
                rows.append(line)
                deadline = time.monotonic() + self.timeout
                continue
            if line.kind == "ERR":
                fields = dict(line.fields)
                code = fields.pop("code")
                raise PumpError(code, fields.pop("msg", ""), fields)
            return Reply(request_id, line.fields, line.words, tuple(rows))

    def identify(self) -> Identity:
        return Identity.from_fields(self.request("VERSION").fields)

    def status(self) -> PumpStatus:
        return PumpStatus.from_fields(self.request("STATUS").fields)

    def drain_unsolicited(self) -> list[DeviceLine]:
        """The `!` lines received so far, oldest first; the list is emptied."""
        lines, self._unsolicited = self._unsolicited, []
        return lines

    def _keep_unsolicited(self, line: DeviceLine) -> None:
        self._unsolicited.append(line)
        if self.on_unsolicited is not None:
            self.on_unsolicited(line)

    def _next_id(self) -> str:
        return f"{self._id_prefix}-{next(self._id_counter) % _ID_COUNTER_LIMIT}"

    def _write(self, data: bytes) -> None:
        try:
            self._link.write(data)
            self._link.flush()
        except (serial.SerialException, OSError) as error:
            raise PortUnavailable(f"lost {self.port}: {' '.join(str(error).split())}") from None

    def _read_line(self, deadline: float, verb: str) -> DeviceLine:
        """The next non-empty, verified device line; PumpTimeout at `deadline`."""
        while True:
            line = self._take_buffered_line()
            if line is not None:
                return line
            if time.monotonic() >= deadline:
                raise PumpTimeout(
                    f"no answer to {verb.upper()} from {self.port} within {self.timeout:g} s"
                )
            try:
                chunk = self._link.read(max(1, self._link.in_waiting))
            except (serial.SerialException, OSError) as error:
                raise PortUnavailable(f"lost {self.port}: {' '.join(str(error).split())}") from None
            self._pending += chunk
            if len(self._pending) > _MAX_PENDING_BYTES:
                self._pending.clear()
                raise ProtocolError(f"{self.port} sends data that is not protocol v1 lines")

    def _take_buffered_line(self) -> DeviceLine | None:
        while True:
            ends = [i for i in (self._pending.find(b"\n"), self._pending.find(b"\r")) if i >= 0]
            if not ends:
                return None
            end = min(ends)
            raw = bytes(self._pending[:end])
            del self._pending[: end + 1]
            if raw:  # CR LF leaves an empty line between its two terminators
                return wire.parse_device_line(raw)
