"""Desktop simulator of the intrathecal syringe pump: the unmodified firmware on a
virtual clock, a physical plant, a pty serial line and a rig control channel."""

__version__ = "0.1.0"

from .simulator import Simulator  # noqa: E402,F401
