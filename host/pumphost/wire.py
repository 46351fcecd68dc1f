"""Serial protocol v1 framing, host side (docs/protocol.md).

Builds request lines `@ID VERB WORDS key=value ... *HHHH` and turns device lines
into `DeviceLine` objects. A device line without a valid check value is a
`ProtocolError`: the device always sends one, so a missing or wrong one means
the line was corrupted or did not come from the firmware.
"""

import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pumphost.errors import BadInput, ProtocolError

MAX_LINE_BYTES = 480
REPLY_KINDS = ("OK", "ERR", "ROW")
UNSOLICITED_MARK = "!"

_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,12}")
_KEY = re.compile(r"[a-z0-9_]+")
_VERB = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,:/+-]*")
_PRINTABLE = re.compile(r"[\x20-\x7e\t]*")
# The check value covers the line up to (not including) the blank before the '*'.
_CHECKED_LINE = re.compile(r"(?P<body>.*)[ \t]\*(?P<check>[0-9A-Fa-f]{4})")
# One token: a bare word, or key=value where value is raw or "quoted" with \" and \\.
_TOKEN = re.compile(
    r'(?:(?P<key>[^ \t="]+)=)?'
    r'(?:"(?P<quoted>(?:[^"\\]|\\["\\])*)"|(?P<raw>[^ \t"]*))'
    r"(?=[ \t]|$)"
)
_ESCAPE = re.compile(r'\\(["\\])')
# Values holding any of these are quoted, as the firmware quotes its own values.
_NEEDS_QUOTES = frozenset(' \t"\\=*')


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: binascii.crc_hqx is that polynomial, unreflected."""
    return binascii.crc_hqx(data, 0xFFFF)


def format_value(value: str | int) -> str:
    """One argument value as it goes on the wire, quoted when it has to be."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInput("E_VALUE", f"argument values are text or integers, not {value!r}")
    text = str(value)
    if not _PRINTABLE.fullmatch(text):
        raise BadInput("E_CHARSET", f"{text!r} has characters outside printable ASCII")
    if text and not _NEEDS_QUOTES.intersection(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_request(
    request_id: str,
    verb: str,
    words: tuple[str, ...] = (),
    args: Mapping[str, str | int] | None = None,
) -> bytes:
    """The full request line with its check value and LF terminator."""
    if not _REQUEST_ID.fullmatch(request_id):
        raise BadInput("E_SYNTAX", f"request id {request_id!r} must be 1-12 of A-Z a-z 0-9 _ -")
    if not _VERB.fullmatch(verb):
        raise BadInput("E_SYNTAX", f"{verb!r} is not a verb")
    for word in words:
        if not _WORD.fullmatch(word):
            raise BadInput("E_SYNTAX", f"{word!r} is not a bare word")
    args = args or {}
    for key in args:
        if not _KEY.fullmatch(key):
            raise BadInput("E_SYNTAX", f"{key!r} is not an argument name (a-z 0-9 _)")
    parts = [f"@{request_id}", verb.upper(), *(w.upper() for w in words)]
    parts += [f"{key}={format_value(value)}" for key, value in args.items()]
    body = " ".join(parts)
    line = f"{body} *{crc16(body.encode('ascii')):04X}"
    if len(line) > MAX_LINE_BYTES:
        raise BadInput("E_TOO_LONG", f"request is {len(line)} bytes, the limit is {MAX_LINE_BYTES}")
    return (line + "\n").encode("ascii")


def tokenize(text: str) -> list[tuple[str | None, str]]:
    """Split a line body into (key, value) pairs; bare words have key None."""
    tokens: list[tuple[str | None, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos == len(text):
            return tokens
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ProtocolError(f"bad token at column {pos + 1}: {text!r}")
        key, quoted, raw = match.group("key", "quoted", "raw")
        if key is None and quoted is not None:
            raise ProtocolError(f"quoted text without a key at column {pos + 1}: {text!r}")
        if key is not None and not _KEY.fullmatch(key):
            raise ProtocolError(f"bad argument name {key!r} in {text!r}")
        value = _ESCAPE.sub(r"\1", quoted) if quoted is not None else raw
        tokens.append((key, value))
        pos = match.end()


@dataclass(frozen=True)
class DeviceLine:
    """One line the device sent, after its check value was verified.

    `kind` is OK, ERR or ROW for replies, or the word after `!` (ALARM, EVENT)
    for unsolicited lines, which never carry a request id. `text` is the line as
    received, less its check value, for showing to people.
    """

    request_id: str | None
    kind: str
    unsolicited: bool
    words: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    text: str = ""


def parse_device_line(raw: bytes) -> DeviceLine:
    """Verify and decode one device line (terminator already removed)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"device sent a byte outside ASCII: {raw!r}") from None
    if not _PRINTABLE.fullmatch(text):
        raise ProtocolError(f"device sent a control character: {raw!r}")
    checked = _CHECKED_LINE.fullmatch(text)
    if checked is None:
        raise ProtocolError(f"device line has no check value: {text!r}")
    body = checked.group("body")
    if crc16(body.encode("ascii")) != int(checked.group("check"), 16):
        raise ProtocolError(f"device line failed its check value: {text!r}")

    tokens = tokenize(body)
    request_id = None
    unsolicited = False
    if tokens and tokens[0] == (None, UNSOLICITED_MARK):
        unsolicited = True
        tokens.pop(0)
    elif tokens and tokens[0][0] is None and tokens[0][1].startswith("@"):
        request_id = tokens.pop(0)[1][1:]
        if not _REQUEST_ID.fullmatch(request_id):
            raise ProtocolError(f"malformed request id in {text!r}")
    if not tokens or tokens[0][0] is not None:
        raise ProtocolError(f"device line has no kind: {text!r}")
    kind = tokens.pop(0)[1].upper()
    if not unsolicited and kind not in REPLY_KINDS:
        raise ProtocolError(f"unknown reply kind {kind!r} in {text!r}")

    words: list[str] = []
    fields: dict[str, str] = {}
    for key, value in tokens:
        if key is None:
            words.append(value)
        elif key in fields:
            raise ProtocolError(f"device repeated {key!r} in {text!r}")
        else:
            fields[key] = value
    if kind == "ERR" and "code" not in fields:
        raise ProtocolError(f"ERR without a code: {text!r}")
    return DeviceLine(request_id, kind, unsolicited, tuple(words), fields, body)
