import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from test_host_fakes import STATUS_FIELDS, FakePump, line

from pumphost import cli, ports
from pumphost.commands import COMMANDS
from pumphost.exitcodes import ExitCode


@pytest.fixture
def fake_pump():
    with FakePump() as pump:
        yield pump


@pytest.fixture(autouse=True)
def no_simulator_or_boards(monkeypatch, tmp_path):
    """Each test sees its own (empty) simulator info path and no USB boards."""
    monkeypatch.setattr(ports, "sim_info_path", lambda: tmp_path / "current.json")
    monkeypatch.setattr(ports.list_ports, "comports", lambda: [])
    monkeypatch.delenv(cli.PORT_ENV, raising=False)
    return tmp_path / "current.json"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err):
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("pumpctl: ")
    assert "Traceback" not in err


def usb_port(device, vid, pid):
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=f"board on {device}")


def test_unreachable_port_is_one_line_and_exit_3_without_traceback():
    # As a technician runs it: a separate process, so nothing test-side can mask a traceback.
    result = subprocess.run(
        [sys.executable, "-m", "pumphost", "--port", "/dev/does-not-exist", "status"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3
    assert result.stdout == ""
    assert_one_line_error(result.stderr)
    assert "/dev/does-not-exist" in result.stderr


def test_status_json_has_technician_units(capsys, fake_pump):
    code, out, err = run(capsys, "--port", fake_pump.path, "status", "--json")
    assert (code, err) == (0, "")
    status = json.loads(out)
    assert status["state"] == "RUNNING"
    assert status["reservoir_ml"] == 18.453999
    assert status["concentration_mcg_per_ml"] == 500
    assert status["dose_mcg_per_day"] == 150.5
    assert status["rate_ml_per_day"] == 0.301
    assert status["delivered_ml"] == 1.546001
    assert status["alarms"] == []


def test_status_table_shows_units_on_every_figure(capsys, fake_pump):
    code, out, err = run(capsys, "status", "--port", fake_pump.path)
    assert code == 0
    for figure in (
        "18.453 mL of 20 mL",
        "500 mcg/mL",
        "150.5 mcg/day",
        "0.301 mL/day",
        "12.54 uL/h",
        "1.546 mL",
    ):
        assert figure in out


def test_alarms_list_and_unsolicited_alarm_reach_the_technician(capsys, fake_pump):
    fields = dict(STATUS_FIELDS)
    fields["alarms"] = "LOW_RESERVOIR,RESTARTED"
    fake_pump.handlers["STATUS"] = lambda rid, words, args: [
        line("! ALARM", None, [("code", "LOW_RESERVOIR")]),
        line("OK", rid, list(fields.items())),
    ]
    code, out, err = run(capsys, "--port", fake_pump.path, "--json", "status")
    assert code == 0
    assert json.loads(out)["alarms"] == ["LOW_RESERVOIR", "RESTARTED"]
    assert err == "pumpctl: device says: ! ALARM code=LOW_RESERVOIR\n"


def test_identify_json(capsys, fake_pump):
    code, out, err = run(capsys, "--port", fake_pump.path, "identify", "--json")
    assert code == 0
    assert json.loads(out) == {
        "port": fake_pump.path,
        "proto": "1.0",
        "fw": "0.0-test",
        "board": "fake",
        "caps": ["rig"],
    }


def test_port_from_environment(capsys, fake_pump, monkeypatch):
    monkeypatch.setenv(cli.PORT_ENV, fake_pump.path)
    code, out, err = run(capsys, "identify")
    assert code == 0
    assert fake_pump.path in out


def test_device_refusal_is_exit_1(capsys, fake_pump):
    fake_pump.handlers["STATUS"] = lambda rid, words, args: [
        line("ERR", rid, [("code", "E_INTERNAL"), ("msg", "status unavailable")])
    ]
    code, out, err = run(capsys, "--port", fake_pump.path, "status")
    assert code == ExitCode.DEVICE_REFUSED
    assert_one_line_error(err)
    assert "E_INTERNAL" in err and "status unavailable" in err


def test_silent_device_is_exit_4(capsys, fake_pump):
    fake_pump.handlers["STATUS"] = lambda rid, words, args: []
    code, out, err = run(capsys, "--port", fake_pump.path, "--timeout", "0.2", "status")
    assert code == ExitCode.NO_ANSWER
    assert_one_line_error(err)


def test_corrupted_reply_is_exit_5(capsys, fake_pump):
    fake_pump.handlers["STATUS"] = lambda rid, words, args: [f"@{rid} OK state=IDLE *0000\r\n"]
    code, out, err = run(capsys, "--port", fake_pump.path, "status")
    assert code == ExitCode.PROTOCOL
    assert_one_line_error(err)


def test_unknown_protocol_major_is_exit_5(capsys):
    with FakePump(proto="2.1") as newer:
        code, out, err = run(capsys, "--port", newer.path, "status")
    assert code == ExitCode.PROTOCOL
    assert_one_line_error(err)
    assert "2.1" in err


def test_sim_without_simulator_is_exit_3(capsys):
    code, out, err = run(capsys, "status")  # --port defaults to sim
    assert code == ExitCode.PORT_UNAVAILABLE
    assert_one_line_error(err)
    assert "pump-sim" in err


def test_sim_port_comes_from_the_info_file(capsys, fake_pump, no_simulator_or_boards):
    info = {"pty": fake_pump.path, "rig": "127.0.0.1:1", "pid": os.getpid()}
    no_simulator_or_boards.write_text(json.dumps(info))
    code, out, err = run(capsys, "--port", "sim", "identify", "--json")
    assert code == 0
    assert json.loads(out)["port"] == fake_pump.path


def test_stale_simulator_info_is_exit_3(capsys, no_simulator_or_boards):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    info = {"pty": "/dev/pts/999", "rig": "127.0.0.1:1", "pid": int(finished.stdout)}
    no_simulator_or_boards.write_text(json.dumps(info))
    code, out, err = run(capsys, "status")
    assert code == ExitCode.PORT_UNAVAILABLE
    assert_one_line_error(err)
    assert "stale" in err


def test_auto_with_no_board_is_exit_3(capsys):
    code, out, err = run(capsys, "--port", "auto", "status")
    assert code == ExitCode.PORT_UNAVAILABLE
    assert_one_line_error(err)


def test_auto_with_several_boards_lists_them(capsys, monkeypatch):
    monkeypatch.setattr(
        ports.list_ports,
        "comports",
        lambda: [
            usb_port("/dev/ttyACM0", 0x2E8A, 0x0005),
            usb_port("/dev/ttyUSB0", 0x1A86, 0x7523),
        ],
    )
    code, out, err = run(capsys, "--port", "auto", "status")
    assert code == ExitCode.PORT_UNAVAILABLE
    assert_one_line_error(err)
    assert "/dev/ttyACM0" in err and "/dev/ttyUSB0" in err


def test_auto_picks_the_one_known_board(monkeypatch):
    monkeypatch.setattr(
        ports.list_ports,
        "comports",
        lambda: [
            usb_port("/dev/ttyS0", None, None),
            usb_port("/dev/ttyUSB3", 0x0403, 0x6001),  # FTDI: not a supported board
            usb_port("/dev/ttyACM1", 0x303A, 0x1001),  # any Espressif product
        ],
    )
    assert ports.resolve_port("auto") == "/dev/ttyACM1"


def test_ports_lists_simulator_and_boards(capsys, monkeypatch, no_simulator_or_boards):
    no_simulator_or_boards.write_text(
        json.dumps({"pty": "/dev/pts/7", "rig": "127.0.0.1:1", "pid": os.getpid()})
    )
    monkeypatch.setattr(
        ports.list_ports, "comports", lambda: [usb_port("/dev/ttyUSB0", 0x10C4, 0xEA60)]
    )
    code, out, err = run(capsys, "ports", "--json")
    assert code == 0
    assert [(c["port"], c["kind"], c["usb_id"]) for c in json.loads(out)] == [
        ("/dev/pts/7", "simulator", ""),
        ("/dev/ttyUSB0", "CP210x USB-UART bridge", "10C4:EA60"),
    ]
    code, out, err = run(capsys, "ports")
    assert code == 0
    assert "/dev/pts/7" in out and "10C4:EA60" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        [],
        ["--timeout", "-1", "status"],
        ["--timeout", "soon", "status"],
        ["status", "--bogus"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as caught:
        cli.main(argv)
    assert caught.value.code == ExitCode.USAGE
    assert_one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("name", [command.name for command in COMMANDS])
def test_every_subcommand_help_has_examples(capsys, name):
    with pytest.raises(SystemExit) as caught:
        cli.main([name, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"pumpctl {name}" in out
