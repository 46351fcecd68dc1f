"""Everything the host side can fail with, as one small hierarchy.

The CLI turns each class into one exit code (see exitcodes.py), so a script
driving `pumpctl` can tell "the device said no" from "nobody answered".
"""


class PumpHostError(Exception):
    """Base of every failure the host tool expects and reports in one line."""


class BadInput(PumpHostError, ValueError):
    """Input typed by a person or a script was refused before anything was sent.

    `code` uses the device's vocabulary (E_VALUE, E_UNITS, E_RANGE, E_SYNTAX) so a
    refusal reads the same whether the host or the device caught it.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PortUnavailable(PumpHostError):
    """The serial port could not be opened, found, or was lost."""


class PumpTimeout(PumpHostError):
    """The device did not answer in time."""


class PumpError(PumpHostError):
    """The device answered ERR: it refused the request and changed nothing."""

    def __init__(self, code: str, message: str, fields: dict[str, str]):
        # The extra fields name the rule and its value (rule=, limit=, retries_left=).
        extra = " ".join(f"{key}={value}" for key, value in fields.items())
        text = f"device refused: {code}: {message}" if message else code
        super().__init__(f"{text} ({extra})" if extra else text)
        self.code = code
        self.message = message
        self.fields = fields


class ProtocolError(PumpHostError):
    """The device said something protocol v1 does not allow (bad CRC, bad syntax)."""


class IncompatibleDevice(ProtocolError):
    """The device speaks a protocol major version this host does not know."""


class Declined(PumpHostError):
    """The technician answered no to a confirmation; the change was cancelled."""


class Interrupted(PumpHostError):
    """Ctrl-C during a change; the message says what was done to undo it."""
