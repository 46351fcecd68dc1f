"""Exit codes of `pumpctl`, defined here and nowhere else (documented in docs/pumpctl.md)."""

from enum import IntEnum

from pumphost.errors import (
    BadInput,
    Declined,
    Interrupted,
    PortUnavailable,
    ProtocolError,
    PumpError,
    PumpTimeout,
)


class ExitCode(IntEnum):
    OK = 0
    DEVICE_REFUSED = 1
    USAGE = 2
    PORT_UNAVAILABLE = 3
    NO_ANSWER = 4
    PROTOCOL = 5
    DECLINED = 6  # answered no at a confirmation: the change was cancelled
    INTERRUPTED = 130  # the shell convention for Ctrl-C (128 + SIGINT)


_BY_ERROR = (
    (PumpError, ExitCode.DEVICE_REFUSED),
    (BadInput, ExitCode.USAGE),
    (PortUnavailable, ExitCode.PORT_UNAVAILABLE),
    (PumpTimeout, ExitCode.NO_ANSWER),
    (ProtocolError, ExitCode.PROTOCOL),
    (Declined, ExitCode.DECLINED),
    (Interrupted, ExitCode.INTERRUPTED),
)


def exit_code_for(error: Exception) -> ExitCode:
    for error_type, code in _BY_ERROR:
        if isinstance(error, error_type):
            return code
    raise TypeError(f"no exit code for {type(error).__name__}")
