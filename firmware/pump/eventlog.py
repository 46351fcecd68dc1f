# Event log that survives resets: a ring of small append-only segment files.
# Appending (not rewriting) keeps flash writes proportional to the event. Each
# line carries the CRC-32 of its text, so a line torn by a power cut is skipped,
# never misread (a tear can stop exactly after a complete key=value); and after
# a torn tail the next append starts on a fresh line, so the torn fragment
# cannot swallow the entry written after it (the power-cut campaign found both).
import binascii

from pump.request import ProtocolError, parse, quote

SEG_ENTRIES = 64
SEGMENTS = 17  # 16 full segments + the one being written: at least 1024 entries


def _seg(i):
    return "log.%d" % i


def _entries(raw):
    """(seq, rtc, kind, args) for every intact line of a segment."""
    if not raw:
        return
    for line in raw.split(b"\n"):
        text, sep, crc = line.rpartition(b" *")
        try:
            if not sep or int(crc, 16) != binascii.crc32(text) & 0xFFFFFFFF:
                continue
            _, words, args = parse(text.decode())
            if len(words) == 3 and words[0].isdigit() and words[1].isdigit():
                yield int(words[0]), int(words[1]), words[2], args
        except (ProtocolError, UnicodeError, ValueError):
            continue


class EventLog:
    def __init__(self, hal):
        self.hal = hal
        self.cur = 0
        self.count = 0
        self.seq = 0
        newest = -1
        for i in range(SEGMENTS):
            last = None
            n = 0
            for e in _entries(hal.fs_read(_seg(i))):
                last = e[0]
                n += 1
            if last is not None and last > newest:
                newest, self.cur, self.count = last, i, n
        self.seq = newest + 1
        raw = hal.fs_read(_seg(self.cur))
        self.torn = bool(raw) and not raw.endswith(b"\n")

    def add(self, rtc, kind, pairs):
        if self.count >= SEG_ENTRIES:
            self.cur = (self.cur + 1) % SEGMENTS
            self.count = 0
            self.hal.fs_write(_seg(self.cur), b"")
            self.torn = False
        text = "%d %d %s" % (self.seq, rtc, kind)
        for k, v in pairs:
            text += " %s=%s" % (k, quote(v))
        line = text.encode()
        line += b" *%08x\n" % (binascii.crc32(line) & 0xFFFFFFFF)
        if self.torn:
            line = b"\n" + line
        self.hal.fs_append(_seg(self.cur), line)
        self.torn = False
        self.seq += 1
        self.count += 1

    def read(self, first_seq, last_rtc, first_rtc, limit):
        """Entries with seq >= first_seq and rtc in [first_rtc, last_rtc], oldest first."""
        out = []
        for k in range(1, SEGMENTS + 1):
            for e in _entries(self.hal.fs_read(_seg((self.cur + k) % SEGMENTS))):
                if e[0] >= first_seq and first_rtc <= e[1] <= last_rtc:
                    out.append(e)
                    if len(out) >= limit:
                        return out
        return out
