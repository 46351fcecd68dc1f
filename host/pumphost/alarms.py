"""Active alarms as the device lists them (ALARMS rows, ACK replies)."""

from dataclasses import dataclass

from pumphost.devicetime import iso_device_time
from pumphost.fields import integer, text


@dataclass(frozen=True)
class Alarm:
    id: int
    code: str
    priority: str  # IEC 60601-1-8: HIGH, MEDIUM, LOW, INFO
    acked: bool
    since_rtc: int  # device clock (local time)
    message: str
    detail: str

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "Alarm":
        return cls(
            id=integer(fields, "id", "ALARMS"),
            code=text(fields, "code", "ALARMS"),
            priority=text(fields, "prio", "ALARMS"),
            acked=text(fields, "acked", "ALARMS") == "1",
            since_rtc=integer(fields, "since", "ALARMS"),
            message=text(fields, "msg", "ALARMS"),
            detail=fields.get("detail", ""),
        )

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "code": self.code,
            "priority": self.priority,
            "acked": self.acked,
            "since": iso_device_time(self.since_rtc),
            "message": self.message,
            "detail": self.detail,
        }
