"""Serial line handling of the firmware core: framing, check values, request ids,
and that hostile bytes get an error (or a documented discard), never a crash."""

import corehal
from hypothesis import given, settings
from hypothesis import strategies as st

from pump import lineio, request
from pump.crc import crc16


def test_crc16_ccitt_false_check_value():
    assert crc16(b"123456789") == 0x29B1


def test_reply_carries_id_and_valid_check_value():
    line = request.reply("OK", "r7", [("state", "RUNNING"), ("msg", 'a "quoted" value')]).strip()
    body, check = line.rsplit(" *", 1)
    assert int(check, 16) == crc16(body.encode())
    rid, words, args = request.parse(body)
    assert rid == "r7" and words == ["OK"] and args["msg"] == 'a "quoted" value'


def test_wrong_check_value_is_refused():
    b = corehal.Bench()
    out = b.send("STATUS *0000")
    assert out[0].startswith("ERR code=E_CRC")
    body = "@a VERSION"
    good = b.send(f"{body} *{crc16(body.encode()):04x}")
    assert good[0].startswith("@a OK proto=1.0")


def test_over_long_line_is_discarded_with_one_error():
    b = corehal.Bench()
    out = b.send("X" * (lineio.MAX_LINE + 50))
    assert len(out) == 1 and "E_TOO_LONG" in out[0]
    assert b.send("VERSION")[0].startswith("OK")


def test_non_ascii_and_unknown_verbs_get_coded_errors():
    b = corehal.Bench()
    b.hal.rx += b"STAT\xffUS\n"
    b.ctl.poll()
    assert "E_CHARSET" in b.replies()[0]
    assert "E_VERB" in b.send("FLY")[0]
    assert "E_SYNTAX" in b.send('STATUS reason="open')[0]


def test_backspace_edits_the_line_like_a_terminal():
    b = corehal.Bench()
    assert b.send("STATX\x08US")[0].startswith("OK state=")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_random_bytes_never_break_the_device(data):
    b = corehal.Bench()
    before = b.ctl.snapshot()
    b.hal.rx += data + b"\n"
    b.ctl.poll()
    lines = [ln for ln in b.replies() if not ln.startswith("!")]
    for ln in lines:
        body, check = ln.rsplit(" *", 1)
        assert int(check, 16) == crc16(body.encode())
    assert b.ctl.snapshot() == before
    assert b.send("VERSION")[-1].startswith("OK proto=")
