"""The device's event log, fetched page by page and written as CSV or JSON.

`LOG since=<seq> from=<rtc> to=<rtc> limit=200` answers one page, oldest first,
and `next=` says where the following page starts (docs/protocol.md); the export
loops until a page comes back empty or reaches the newest entry the first page
reported, so entries logged while downloading do not make it run forever.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pumphost.client import PumpClient
from pumphost.devicetime import iso_device_time
from pumphost.errors import BadInput
from pumphost.fields import integer

PAGE = 200  # the device's largest page (LOG_PAGE_MAX)
CSV_COLUMNS = ("seq", "rtc_s", "time", "event", "details")


@dataclass(frozen=True)
class Entry:
    seq: int
    rtc_s: int  # device clock, local time as Unix seconds
    event: str
    fields: dict[str, str]

    def as_json(self) -> dict:
        return {
            "seq": self.seq,
            "rtc_s": self.rtc_s,
            "time": iso_device_time(self.rtc_s),
            "event": self.event,
            "fields": self.fields,
        }


def parse_when(text: str) -> int:
    """--from/--to: Unix seconds, or a local date-time in the device's terms.

    The device clock counts local time as Unix seconds (devicetime.py), so a
    date-time typed here is read with no time-zone shift."""
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            "E_VALUE", f"{text!r} is not Unix seconds or a date-time like 2026-03-01 14:30"
        ) from None
    if when.tzinfo is not None:
        raise BadInput("E_VALUE", f"{text!r}: give device local time, without a time zone")
    return int(when.replace(tzinfo=UTC).timestamp())


def fetch(
    pump: PumpClient,
    first_rtc: int | None = None,
    last_rtc: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Entry]:
    """Every entry in the range, oldest first; progress(done, total) in sequence numbers."""
    since = 0
    start = None
    newest = None
    while True:
        args: dict[str, str | int] = {"since": since, "limit": PAGE}
        if first_rtc is not None:
            args["from"] = first_rtc
        if last_rtc is not None:
            args["to"] = last_rtc
        reply = pump.request("LOG", **args)
        if newest is None:
            newest = integer(reply.fields, "last_seq", "LOG")
        for row in reply.rows:
            entry = _entry(row.fields)
            if entry.seq > newest:
                return
            if start is None:
                start = entry.seq
            yield entry
        since = integer(reply.fields, "next", "LOG")
        if progress is not None and start is not None:
            progress(min(since, newest + 1) - start, newest + 1 - start)
        if not reply.rows or since > newest:
            return


def _entry(fields: dict[str, str]) -> Entry:
    rest = dict(fields)
    seq = integer(rest, "seq", "LOG")
    rtc = integer(rest, "rtc", "LOG")
    event = rest.get("event", "")
    for key in ("seq", "rtc", "event"):
        rest.pop(key, None)
    return Entry(seq, rtc, event, rest)


def to_json(entries: list[Entry]) -> str:
    return json.dumps([entry.as_json() for entry in entries], indent=2) + "\n"


def to_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        details = " ".join(f"{key}={value}" for key, value in e.fields.items())
        writer.writerow((e.seq, e.rtc_s, iso_device_time(e.rtc_s), e.event, details))
    return out.getvalue()
