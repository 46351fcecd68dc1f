"""What `pumpctl watch` shows: the latest status and alarms, recent device
events, and the state of the connection (including a reconnect in progress)."""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Group, RenderableType
from rich.text import Text

from pumphost.alarms import Alarm
from pumphost.render import alarm_table
from pumphost.status import PumpStatus
from pumphost.statusview import status_table
from pumphost.wire import DeviceLine

RECONNECTING = "reconnecting..."
EVENTS_SHOWN = 6


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S")


@dataclass
class WatchView:
    port: str
    status: PumpStatus | None = None
    alarms: list[Alarm] = field(default_factory=list)
    events: deque = field(default_factory=lambda: deque(maxlen=EVENTS_SHOWN))
    fresh_events: list[str] = field(default_factory=list)  # since the last JSON line
    note: str = ""  # the connection's state, e.g. "reconnecting... (why)"
    last_reconnect: str = ""
    updated: str = ""
    connected: bool = False
    device_restarted: bool = False

    def saw(self, line: DeviceLine) -> None:
        """An unsolicited line: shown, and a BOOT event means the device restarted."""
        self.events.append(f"{_now()}  {line.text}")
        self.fresh_events.append(line.text)
        if line.kind == "EVENT" and line.fields.get("event") == "BOOT":
            self.device_restarted = True

    def reconnecting(self, why: str) -> None:
        self.connected = False
        self.note = f"{RECONNECTING} ({' '.join(why.split())})"

    def opened(self, port: str) -> None:
        if self.note.startswith(RECONNECTING):
            self.last_reconnect = f"reconnected at {_now()} after: {self.note[len(RECONNECTING) :]}"
        self.port = port
        self.connected = True
        self.note = ""

    def update(self, status: PumpStatus, alarms: list[Alarm]) -> None:
        self.status = status
        self.alarms = alarms
        self.updated = _now()

    def render(self) -> RenderableType:
        head = Text(f"pumpctl watch  {self.port}  updated {self.updated or '-'}  (Ctrl-C quits)")
        parts: list[RenderableType] = [head]
        if self.note:
            parts.append(Text(self.note, style="bold yellow"))
        if self.last_reconnect:
            parts.append(Text(self.last_reconnect, style="yellow"))
        if self.status is not None:
            title = "Pump status" if self.connected else "Pump status (last known)"
            parts.append(status_table(self.status, title))
        if self.alarms:
            parts.append(alarm_table(self.alarms))
        elif self.status is not None:
            parts.append(Text("No active alarms."))
        if self.events:
            parts.append(Text("Recent device events:\n" + "\n".join(self.events)))
        return Group(*parts)

    def as_json(self) -> dict:
        data = {
            "time": datetime.now().isoformat(timespec="seconds"),
            "port": self.port,
            "connected": self.connected,
            "note": self.note or None,
            "status": self.status.as_json() if self.status and self.connected else None,
            "alarms": [alarm.as_json() for alarm in self.alarms] if self.connected else None,
            "events": self.fresh_events,
        }
        self.fresh_events = []
        return data
