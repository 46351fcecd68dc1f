"""What a device says about itself (VERSION), and whether this host may talk to it."""

import re
from dataclasses import dataclass

from pumphost.errors import IncompatibleDevice, ProtocolError

SUPPORTED_PROTOCOL_MAJOR = 1

_PROTOCOL_VERSION = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)")


@dataclass(frozen=True)
class Identity:
    protocol: str
    firmware: str
    board: str
    caps: tuple[str, ...]

    @property
    def protocol_major(self) -> int:
        return int(self.protocol.partition(".")[0])

    @property
    def is_rig(self) -> bool:
        """A simulator or test rig (has a rig control channel), not a bare board."""
        return "rig" in self.caps

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "Identity":
        missing = [key for key in ("proto", "fw", "board") if key not in fields]
        if missing:
            raise ProtocolError(f"VERSION reply lacks {', '.join(missing)}")
        if not _PROTOCOL_VERSION.fullmatch(fields["proto"]):
            raise ProtocolError(f"VERSION reply has a malformed proto={fields['proto']!r}")
        caps = tuple(cap for cap in fields.get("caps", "").split(",") if cap)
        return cls(fields["proto"], fields["fw"], fields["board"], caps)

    def require_compatible(self) -> None:
        # A newer minor version only adds; a different major may change meanings,
        # and misreading a dose field is worse than refusing to talk.
        if self.protocol_major != SUPPORTED_PROTOCOL_MAJOR:
            raise IncompatibleDevice(
                f"device speaks protocol {self.protocol}; this pumpctl speaks "
                f"{SUPPORTED_PROTOCOL_MAJOR}.x only (update the host tool or the firmware)"
            )

    def as_json(self) -> dict:
        return {
            "proto": self.protocol,
            "fw": self.firmware,
            "board": self.board,
            "caps": list(self.caps),
        }
