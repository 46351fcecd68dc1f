# Power-safe records on the board's flash filesystem. A record is written to a
# temporary file and renamed over one of two slots (A, B) chosen by sequence
# number, so a power cut at any instant leaves at least one complete, checksummed
# copy. A reader takes the valid copy with the highest sequence number.
import binascii
import json

MAGIC = b"PUMPREC1"


def encode(seq, obj):
    body = json.dumps(obj).encode()
    head = b"%s %d %d %08x\n" % (MAGIC, seq, len(body), binascii.crc32(body) & 0xFFFFFFFF)
    return head + body


def decode(raw):
    """(seq, obj) from a stored record, or None if it is torn or corrupted."""
    try:
        nl = raw.index(b"\n")
        magic, seq, size, crc = raw[:nl].split(b" ")
        body = raw[nl + 1 :]
        if magic != MAGIC or len(body) != int(size):
            return None
        if binascii.crc32(body) & 0xFFFFFFFF != int(crc, 16):
            return None
        return int(seq), json.loads(body)
    except (ValueError, TypeError):
        return None


class RecordStore:
    def __init__(self, hal, name):
        self.hal = hal
        self.name = name
        self.seq = 0

    def load(self):
        """(obj, status): status is 'ok', 'empty' (never written) or 'corrupt'."""
        best = None
        seen = False
        for slot in ("a", "b"):
            raw = self.hal.fs_read(self.name + "." + slot)
            if raw is None:
                continue
            seen = True
            rec = decode(raw)
            if rec is not None and (best is None or rec[0] > best[0]):
                best = rec
        if best is None:
            return None, ("corrupt" if seen else "empty")
        self.seq = best[0]
        return best[1], "ok"

    def save(self, obj):
        self.seq += 1
        tmp = self.name + ".tmp"
        self.hal.fs_write(tmp, encode(self.seq, obj))
        self.hal.fs_rename(tmp, self.name + "." + ("a" if self.seq & 1 else "b"))
