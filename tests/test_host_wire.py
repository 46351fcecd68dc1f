import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_host_fakes import line
from test_host_fakes import request as device_request

from pump.crc import crc16 as firmware_crc16
from pumphost import wire
from pumphost.errors import BadInput, ProtocolError

printable_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E))
argument_names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def test_crc_check_value():
    assert wire.crc16(b"123456789") == 0x29B1


def test_request_line_is_id_verb_args_and_check_value():
    expected_body = "@7 STATUS"
    assert wire.encode_request("7", "status") == (
        f"{expected_body} *{firmware_crc16(expected_body.encode()):04X}\n".encode()
    )


def test_request_words_and_arguments_in_order():
    raw = wire.encode_request("a1", "alarm", ("ack",), {"code": "LOW_RESERVOIR", "n": 3})
    assert raw.startswith(b"@a1 ALARM ACK code=LOW_RESERVOIR n=3 *")


@pytest.mark.parametrize(
    "value, on_wire",
    [
        ("patient request", '"patient request"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
        ("a=b", '"a=b"'),
        ("plain", "plain"),
        (42, "42"),
    ],
)
def test_values_are_quoted_when_they_must_be(value, on_wire):
    assert wire.format_value(value) == on_wire


@pytest.mark.parametrize("value", ["dose µg", "tab\x07", True, 1.5, None])
def test_unsendable_values_are_refused(value):
    with pytest.raises(BadInput):
        wire.format_value(value)


@pytest.mark.parametrize(
    "request_id, verb, words, args",
    [
        ("", "STATUS", (), {}),
        ("way-too-long-id", "STATUS", (), {}),
        ("1", "STA TUS", (), {}),
        ("1", "ALARM", ("two words",), {}),
        ("1", "ALARM", ('"quoted"',), {}),
        ("1", "SET", (), {"Bad-Key": "x"}),
    ],
)
def test_malformed_requests_are_refused_before_sending(request_id, verb, words, args):
    with pytest.raises(BadInput) as caught:
        wire.encode_request(request_id, verb, words, args)
    assert caught.value.code == "E_SYNTAX"


def test_over_long_request_is_refused():
    with pytest.raises(BadInput) as caught:
        wire.encode_request("1", "NOTE", args={"text": "x" * 480})
    assert caught.value.code == "E_TOO_LONG"


@given(key=argument_names, value=printable_text)
def test_firmware_reads_back_every_value_the_host_sends(key, value):
    raw = wire.encode_request("h-1", "SET", ("cont",), {key: value})
    rid, words, args = device_request.parse(raw.decode("ascii").rstrip("\n"))
    assert (rid, words, args) == ("h-1", ["SET", "CONT"], {key: value})


@given(value=printable_text)
def test_host_reads_back_every_value_the_firmware_sends(value):
    raw = line("OK", "h-2", [("msg", value), ("n", "1")]).encode("ascii")
    parsed = wire.parse_device_line(raw.rstrip(b"\r\n"))
    assert parsed.request_id == "h-2"
    assert parsed.kind == "OK"
    assert parsed.fields == {"msg": value, "n": "1"}


def test_fields_keep_their_order():
    raw = line("OK", "1", [("z", "1"), ("a", "2"), ("m", "3")]).encode().rstrip()
    assert list(wire.parse_device_line(raw).fields) == ["z", "a", "m"]


def test_unsolicited_line_has_kind_words_and_no_id():
    body = "! ALARM LOW_RESERVOIR reservoir_nl=1900000"
    raw = f"{body} *{wire.crc16(body.encode()):04X}".encode()
    parsed = wire.parse_device_line(raw)
    assert parsed.unsolicited
    assert parsed.request_id is None
    assert parsed.kind == "ALARM"
    assert parsed.words == ("LOW_RESERVOIR",)
    assert parsed.fields == {"reservoir_nl": "1900000"}


def test_error_reply_keeps_code_and_message():
    raw = line("ERR", "9", [("code", "E_STATE"), ("msg", "not while running")]).encode()
    parsed = wire.parse_device_line(raw.rstrip())
    assert parsed.kind == "ERR"
    assert parsed.fields == {"code": "E_STATE", "msg": "not while running"}


def test_lower_case_check_value_is_accepted():
    body = "@1 OK"
    raw = f"{body} *{wire.crc16(body.encode()):04x}".encode()
    assert wire.parse_device_line(raw).kind == "OK"


def test_wrong_check_value_is_a_protocol_error():
    good = line("OK", "1", [("state", "IDLE")]).rstrip()
    corrupted = good.replace("IDLE", "IDLF")
    with pytest.raises(ProtocolError, match="check value"):
        wire.parse_device_line(corrupted.encode())


def test_missing_check_value_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="no check value"):
        wire.parse_device_line(b"@1 OK state=IDLE")


def _checked(body: str) -> bytes:
    return f"{body} *{wire.crc16(body.encode()):04X}".encode()


@pytest.mark.parametrize(
    "body",
    [
        '@1 OK msg="unterminated',
        '@1 OK "quoted word"',
        "@1 MAYBE",
        "@1 ERR msg=no-code",
        "@1 OK n=1 n=2",
        "@1 OK Bad-Key=1",
        "@a.b OK",
        "",
    ],
)
def test_malformed_device_lines_are_protocol_errors(body):
    with pytest.raises(ProtocolError):
        wire.parse_device_line(_checked(body))


@pytest.mark.parametrize("raw", [b"@1 OK \xff *0000", b"@1 OK \x01 *0000"])
def test_non_ascii_device_lines_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        wire.parse_device_line(raw)
