"""Exceptions shared by the simulator's parts."""


class PowerLoss(BaseException):
    """Raised from a HAL call once power is cut.

    Derives from BaseException so a firmware `except Exception` cannot swallow
    it: the firmware's stack unwinds as if the MCU had stopped at that call.
    """


class SimulatorShutdown(PowerLoss):
    """Power cut for good: the simulator is stopping."""


class SimError(Exception):
    """A request to the simulator that cannot be honoured, with a stable code."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
