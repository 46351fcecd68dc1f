"""Reading typed values out of a device reply's key=value fields.

A missing or malformed field is a ProtocolError naming the reply it came from:
the firmware always sends them, so their absence means the other end is not
speaking protocol v1.
"""

from pumphost.errors import ProtocolError

NEVER = -1  # the device's "never" in forecast and time fields


def text(fields: dict[str, str], key: str, reply: str) -> str:
    try:
        return fields[key]
    except KeyError:
        raise ProtocolError(f"{reply} reply lacks {key}") from None


def integer(fields: dict[str, str], key: str, reply: str) -> int:
    value = text(fields, key, reply)
    if not value.isdigit():
        raise ProtocolError(f"{reply} reply has a non-integer {key}={value!r}")
    return int(value)


def integer_or_never(fields: dict[str, str], key: str, reply: str) -> int:
    """A count, or -1 where the device says 'never'."""
    return NEVER if text(fields, key, reply) == str(NEVER) else integer(fields, key, reply)


def integer_list(fields: dict[str, str], key: str, reply: str) -> list[int]:
    values = text(fields, key, reply).split(",")
    if not all(value.isdigit() for value in values):
        raise ProtocolError(f"{reply} reply has a malformed {key}={fields[key]!r}")
    return [int(value) for value in values]
