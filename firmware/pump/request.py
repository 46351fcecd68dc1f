# Request lines: tokenising, the optional request id and check value, and reply
# formatting. Everything the device says goes through `reply`, so every line it
# sends carries a check value.
from pump.crc import crc16


class ProtocolError(Exception):
    """A refusal with a stable code; raised anywhere a request is judged."""

    def __init__(self, code, msg, extra=None):
        super().__init__(msg)  # MicroPython has no Exception.__init__ to call directly
        self.code = code
        self.msg = msg
        self.extra = extra
        self.rid = None  # set by parse() when the line had a usable request id


_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_HEX = "0123456789abcdefABCDEF"


def _tokens(line):
    """Split on blanks; honour "..." with \\ escapes. Yields (start, text, quoted)."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        start = i
        text = []
        quoted = False
        while i < n and line[i] not in " \t":
            c = line[i]
            if c == '"':
                quoted = True
                i += 1
                while True:
                    if i >= n:
                        raise ProtocolError("E_SYNTAX", "unterminated quote")
                    c = line[i]
                    if c == "\\" and i + 1 < n:
                        text.append(line[i + 1])
                        i += 2
                        continue
                    if c == '"':
                        i += 1
                        break
                    text.append(c)
                    i += 1
            else:
                text.append(c)
                i += 1
        out.append((start, "".join(text), quoted))
    return out


def parse(line):
    """Return (request_id or None, [WORDS], {key: value}) or raise ProtocolError.

    A well-formed request id is read first, so even a refusal of the rest of the
    line (a bad check value, say) carries it and the host can match the reply.
    """
    toks = _tokens(line)
    rid = None
    if toks and toks[0][1][:1] == "@" and not toks[0][2]:
        rid = toks.pop(0)[1][1:]
        if not 1 <= len(rid) <= 12 or any(c not in _ID_CHARS for c in rid):
            raise ProtocolError("E_SYNTAX", "request id must be 1-12 of A-Z a-z 0-9 _ -")
    try:
        if toks:
            start, text, quoted = toks[-1]
            if text[:1] == "*" and not quoted:
                if len(text) != 5 or any(c not in _HEX for c in text[1:]):
                    raise ProtocolError("E_CRC", "check value must be * and 4 hex digits")
                body = line[: start - 1] if start else ""
                if crc16(body.encode()) != int(text[1:], 16):
                    raise ProtocolError("E_CRC", "check value does not match the line")
                toks.pop()
        words, args = _words_and_args(toks)
        return rid, words, args
    except ProtocolError as e:
        e.rid = rid
        raise


def _words_and_args(toks):
    words = []
    args = {}
    for _, text, quoted in toks:
        eq = text.find("=")
        if eq > 0:
            key = text[:eq].lower()
            if any(c not in _KEY_CHARS for c in key):
                raise ProtocolError("E_SYNTAX", "bad argument name")
            if key in args:
                raise ProtocolError("E_ARG", "argument %s given twice" % key)
            args[key] = text[eq + 1 :]
        elif quoted or eq == 0:
            raise ProtocolError("E_SYNTAX", "a quoted value needs a key: key=\"...\"")
        else:
            words.append(text.upper())
    if not words:
        raise ProtocolError("E_SYNTAX", "no verb")
    return words, args


def quote(value):
    s = str(value)
    if s and not any(c in s for c in ' \t"\\=*'):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reply(kind, rid, pairs):
    """Format one device line: [@id ]KIND k=v ... *CRC, terminated by CR LF."""
    parts = []
    if rid is not None:
        parts.append("@" + rid)
    parts.append(kind)
    for key, value in pairs:
        parts.append(key + "=" + quote(value))
    body = " ".join(parts)
    return "%s *%04X\r\n" % (body, crc16(body.encode()))
