import re
import time

import pytest
from test_host_fakes import FakePump, line

from pumphost import wire
from pumphost.client import PumpClient
from pumphost.errors import (
    IncompatibleDevice,
    PortUnavailable,
    ProtocolError,
    PumpError,
    PumpTimeout,
)

CHECKED_REQUEST = re.compile(r"@(?P<id>[A-Za-z0-9_-]{1,12}) (?P<body>.*) \*(?P<check>[0-9A-F]{4})")


@pytest.fixture
def fake_pump():
    with FakePump() as pump:
        yield pump


def test_connect_identifies_the_device(fake_pump):
    with PumpClient(fake_pump.path, timeout=2) as pump:
        assert pump.identity.protocol == "1.0"
        assert pump.identity.board == "fake"
        assert pump.identity.is_rig


def test_every_request_has_a_unique_id_and_a_valid_check_value(fake_pump):
    with PumpClient(fake_pump.path, timeout=2) as pump:
        pump.status()
        pump.status()
    ids = []
    for text in fake_pump.received:
        match = CHECKED_REQUEST.fullmatch(text)
        assert match, text
        body = text[: text.rindex(" *")]
        assert wire.crc16(body.encode()) == int(match.group("check"), 16)
        ids.append(match.group("id"))
    assert len(ids) == 3  # VERSION on connect, then two STATUS
    assert len(set(ids)) == 3


def test_status_is_typed_in_device_units(fake_pump):
    with PumpClient(fake_pump.path, timeout=2) as pump:
        status = pump.status()
    assert status.state == "RUNNING"
    assert status.reservoir_nl == 18_453_999
    assert status.dose_ng_day == 150_500
    assert status.alarms == ()


def test_reply_is_matched_by_id_past_unsolicited_and_stale_lines(fake_pump):
    def status_with_interruptions(rid, words, args):
        return [
            line("! ALARM", None, [("code", "LOW_RESERVOIR")]),
            line("OK", "stale-1", [("state", "IDLE")]),  # an abandoned request's reply
            line("OK", rid, [("state", "PAUSED"), ("note", "mine")]),
        ]

    fake_pump.handlers["PING"] = status_with_interruptions
    seen = []
    with PumpClient(fake_pump.path, timeout=2, on_unsolicited=seen.append) as pump:
        reply = pump.request("PING")
        assert reply.fields == {"state": "PAUSED", "note": "mine"}
        unsolicited = pump.drain_unsolicited()
        assert pump.drain_unsolicited() == []
    assert [(u.kind, u.fields) for u in unsolicited] == [("ALARM", {"code": "LOW_RESERVOIR"})]
    assert seen == unsolicited


def test_rows_are_collected_into_the_reply(fake_pump):
    fake_pump.handlers["LOG"] = lambda rid, words, args: [
        line("ROW", rid, [("t", "1"), ("event", "START")]),
        line("! EVENT", None, [("what", "tick")]),
        line("ROW", rid, [("t", "2"), ("event", "STOP")]),
        line("OK", rid, [("n", "2")]),
    ]
    with PumpClient(fake_pump.path, timeout=2) as pump:
        reply = pump.request("LOG", since="0")
        assert [row.fields["event"] for row in reply.rows] == ["START", "STOP"]
        assert reply.fields == {"n": "2"}
        assert [u.kind for u in pump.drain_unsolicited()] == ["EVENT"]
    assert "since=0" in fake_pump.received[-1]


def test_err_reply_raises_pump_error_with_code_message_and_fields(fake_pump):
    fake_pump.handlers["START"] = lambda rid, words, args: [
        line("ERR", rid, [("code", "E_STATE"), ("msg", "already running"), ("state", "RUNNING")])
    ]
    with PumpClient(fake_pump.path, timeout=2) as pump:
        with pytest.raises(PumpError) as caught:
            pump.request("START")
    assert caught.value.code == "E_STATE"
    assert caught.value.message == "already running"
    assert caught.value.fields == {"state": "RUNNING"}


def test_silence_raises_pump_timeout(fake_pump):
    fake_pump.handlers["STATUS"] = lambda rid, words, args: []
    with PumpClient(fake_pump.path, timeout=0.2) as pump:
        started = time.monotonic()
        with pytest.raises(PumpTimeout, match="no answer to STATUS"):
            pump.status()
        assert time.monotonic() - started < 1.0


def test_reply_with_wrong_check_value_is_rejected(fake_pump):
    def corrupted(rid, words, args):
        good = line("OK", rid, [("state", "IDLE")])
        return [good.replace("IDLE", "IDLF")]

    fake_pump.handlers["STATUS"] = corrupted
    with PumpClient(fake_pump.path, timeout=2) as pump:
        with pytest.raises(ProtocolError, match="check value"):
            pump.status()


def test_reply_without_check_value_is_rejected(fake_pump):
    fake_pump.handlers["STATUS"] = lambda rid, words, args: [f"@{rid} OK state=IDLE\r\n"]
    with PumpClient(fake_pump.path, timeout=2) as pump:
        with pytest.raises(ProtocolError, match="no check value"):
            pump.status()


def test_other_protocol_major_is_refused_and_the_port_released():
    with FakePump(proto="2.0") as newer:
        with pytest.raises(IncompatibleDevice, match="protocol 2.0"):
            PumpClient(newer.path, timeout=2)
        newer.handlers["VERSION"] = lambda rid, words, args: [
            line("OK", rid, [("proto", "1.3"), ("fw", "x"), ("board", "b"), ("caps", "")])
        ]
        with PumpClient(newer.path, timeout=2) as pump:  # the refused client let go of it
            assert pump.identity.protocol_major == 1
            assert pump.identity.caps == ()


def test_missing_port_is_unavailable():
    with pytest.raises(PortUnavailable, match="no such port"):
        PumpClient("/dev/does-not-exist", timeout=1)


def test_unknown_url_scheme_is_unavailable():
    with pytest.raises(PortUnavailable, match="cannot open"):
        PumpClient("nosuch://somewhere", timeout=1)


def test_port_held_by_another_client_is_busy(fake_pump):
    with PumpClient(fake_pump.path, timeout=2):
        with pytest.raises(PortUnavailable, match="busy"):
            PumpClient(fake_pump.path, timeout=2)
