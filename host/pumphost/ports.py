"""Turning a `--port` value into something pyserial can open.

`sim` means the running simulator (found through its info file), `auto` the one
pump board plugged in over USB; anything else is a path or pyserial URL as given.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from serial.tools import list_ports

from pumphost.discovery import sim_info_path
from pumphost.errors import PortUnavailable

SIMULATOR = "sim"
AUTO = "auto"


@dataclass(frozen=True)
class UsbBoard:
    vid: int
    pid: int | None  # None: every product of this vendor
    kind: str

    def matches(self, vid: int | None, pid: int | None) -> bool:
        return vid == self.vid and (self.pid is None or pid == self.pid)


# USB identities under which the supported boards enumerate.
KNOWN_BOARDS = (
    UsbBoard(0x2E8A, 0x0005, "Raspberry Pi Pico (MicroPython)"),
    UsbBoard(0x303A, None, "Espressif ESP32 (native USB)"),
    UsbBoard(0x10C4, 0xEA60, "CP210x USB-UART bridge"),
    UsbBoard(0x1A86, 0x7523, "CH340 USB-UART bridge"),
)


@dataclass(frozen=True)
class Candidate:
    """A serial port that may have a pump behind it."""

    port: str
    kind: str
    usb_id: str  # "VID:PID" in hex, or "" for the simulator
    description: str

    def as_json(self) -> dict:
        return {
            "port": self.port,
            "kind": self.kind,
            "usb_id": self.usb_id,
            "description": self.description,
        }


@dataclass(frozen=True)
class SimulatorInfo:
    pty: str
    rig: str
    pid: int


def read_simulator_info() -> SimulatorInfo:
    """The running simulator's info file; PortUnavailable if none is running."""
    path = Path(sim_info_path())
    try:
        info = json.loads(path.read_text())
        result = SimulatorInfo(str(info["pty"]), str(info["rig"]), int(info["pid"]))
    except FileNotFoundError:
        raise PortUnavailable(
            f"no simulator is running (no {path}); start one with `pump-sim`"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PortUnavailable(f"simulator info file {path} is unreadable: {error}") from None
    if not _process_alive(result.pid):
        raise PortUnavailable(
            f"simulator info file {path} is stale (process {result.pid} has exited); "
            "start one with `pump-sim`"
        )
    return result


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def board_candidates() -> list[Candidate]:
    """USB serial ports whose VID:PID is one of the supported boards."""
    found = []
    for info in sorted(list_ports.comports(), key=lambda port: port.device):
        for board in KNOWN_BOARDS:
            if board.matches(info.vid, info.pid):
                usb_id = f"{info.vid:04X}:{info.pid:04X}"
                found.append(Candidate(info.device, board.kind, usb_id, info.description or ""))
                break
    return found


def list_candidates() -> list[Candidate]:
    """The running simulator (if any) and every plugged-in board that may be a pump."""
    candidates = []
    try:
        sim = read_simulator_info()
    except PortUnavailable:
        pass
    else:
        candidates.append(Candidate(sim.pty, "simulator", "", f"pump-sim, pid {sim.pid}"))
    return candidates + board_candidates()


def resolve_port(value: str) -> str:
    """The path or pyserial URL `--port value` stands for."""
    if value == SIMULATOR:
        return read_simulator_info().pty
    if value == AUTO:
        boards = board_candidates()
        if not boards:
            raise PortUnavailable(
                "no pump board found over USB (looked for Pico 2E8A:0005, Espressif 303A, "
                "CP210x 10C4:EA60, CH340 1A86:7523); give --port explicitly"
            )
        if len(boards) > 1:
            listed = ", ".join(f"{board.port} ({board.kind})" for board in boards)
            raise PortUnavailable(f"several boards found, choose one with --port: {listed}")
        return boards[0].port
    return value
