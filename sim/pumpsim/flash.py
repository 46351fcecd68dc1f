"""The MCU's flash filesystem: a flat namespace of small files.

Contents live in memory (the truth the firmware sees) and are mirrored to a
directory so a run can be inspected or continued with `--flash DIR`. A write
can be armed to tear: it stores only a prefix of the data, as a power cut in
the middle of programming the flash would, and reports that it was cut.
"""

import errno
import os
from pathlib import Path

MAX_NAME = 64
DEFAULT_CAPACITY = 1 << 20  # roughly what a Pico leaves for littlefs


class Flash:
    def __init__(self, directory, capacity=DEFAULT_CAPACITY):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self._files = {}
        self._tear_keep = None
        self.tears = []  # every torn write: {"file", "kept", "of"} (bytes)
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and _valid_name(path.name):
                self._files[path.name] = path.read_bytes()

    def names(self):
        return sorted(self._files)

    def used(self):
        return sum(len(d) for d in self._files.values())

    def arm_tear(self, keep_bytes):
        """Make the next write or append store only the first `keep_bytes` bytes
        of its data and fail."""
        if keep_bytes < 0:
            raise ValueError("keep_bytes must be >= 0")
        self._tear_keep = keep_bytes

    def corrupt(self, name, offset=None):
        """Flip every bit of one byte of `name` (default: its middle byte), as a
        worn or disturbed flash cell would; returns the offset flipped."""
        _check_name(name)
        data = self._files.get(name)
        if not data:
            raise OSError(errno.ENOENT, f"no such file or empty: {name}")
        at = len(data) // 2 if offset is None else offset
        if not 0 <= at < len(data):
            raise ValueError(f"offset must be 0-{len(data) - 1}")
        flipped = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        self._files[name] = flipped
        (self.directory / name).write_bytes(flipped)
        return at

    def read(self, name):
        _check_name(name)
        return self._files.get(name)

    def write(self, name, data):
        """Create or replace `name`. Returns False if an armed tear cut it short."""
        return self._store(name, b"", data)

    def append(self, name, data):
        """Append to `name`, creating it. Returns False if an armed tear cut it short."""
        _check_name(name)
        return self._store(name, self._files.get(name, b""), data)

    def _store(self, name, head, data):
        _check_name(name)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("flash data must be bytes")
        data = bytes(data)
        old = len(self._files.get(name, b""))
        if self.used() - old + len(head) + len(data) > self.capacity:
            raise OSError(errno.ENOSPC, "flash full")
        keep = self._tear_keep
        self._tear_keep = None
        if keep is not None:
            self.tears.append({"file": name, "kept": min(keep, len(data)), "of": len(data)})
            data = data[:keep]
        self._files[name] = head + data
        (self.directory / name).write_bytes(head + data)
        return keep is None

    def rename(self, src, dst):
        _check_name(src)
        _check_name(dst)
        if src not in self._files:
            raise OSError(errno.ENOENT, f"no such file: {src}")
        self._files[dst] = self._files.pop(src)
        os.replace(self.directory / src, self.directory / dst)

    def remove(self, name):
        _check_name(name)
        if self._files.pop(name, None) is not None:
            (self.directory / name).unlink(missing_ok=True)


def _valid_name(name):
    return (
        isinstance(name, str)
        and 0 < len(name) <= MAX_NAME
        and name not in (".", "..")
        and not any(c in name for c in "/\\\0")
    )


def _check_name(name):
    if not _valid_name(name):
        raise ValueError(f"bad flash file name {name!r}")
