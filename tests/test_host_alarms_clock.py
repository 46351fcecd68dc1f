"""pumpctl alarms and clock: against the firmware core, and the fake pump where the
firmware cannot yet answer."""

import json
import time

import corehal
import pytest
from test_host_benchpump import BenchPump, running_bench
from test_host_fakes import FakePump, line

from pumphost import cli, devicetime
from pumphost.exitcodes import ExitCode


def pumpctl(capsys, port, *argv):
    code = cli.main(["--port", port, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def restarted_bench() -> corehal.Bench:
    """A running pump after a power cut: RESTARTED (latched) is active."""
    bench = running_bench()
    bench.hal.cause = "power_on"
    return corehal.Bench(bench.hal)


def test_alarms_list_and_ack_as_json(capsys):
    with BenchPump(restarted_bench()) as device:
        code, out, err = pumpctl(capsys, device.path, "alarms", "--json")
        assert code == ExitCode.OK, err
        alarms = json.loads(out)
        assert [(a["code"], a["priority"], a["acked"]) for a in alarms] == [
            ("RESTARTED", "MEDIUM", False)
        ]
        restarted = alarms[0]
        assert restarted["since"] == "2027-01-15T08:00:00"
        assert "restarted" in restarted["message"]

        code, out, err = pumpctl(
            capsys, device.path, "alarms", "ack", str(restarted["id"]), "--json"
        )
        assert code == ExitCode.OK, err
        acked = json.loads(out)
        assert (acked["id"], acked["acked"], acked["still_active"]) == (
            restarted["id"],
            True,
            False,
        )
        assert device.status()["alarms"] == "-"


def test_acked_condition_alarm_stays_listed(capsys):
    with BenchPump(running_bench()) as device:
        assert pumpctl(capsys, device.path, "stop", "--reason", "test", "--yes")[0] == 0
        code, out, err = pumpctl(capsys, device.path, "alarms")
        assert "THERAPY_STOPPED" in out and "2027-01-15 08:00:00" in out
        code, out, err = pumpctl(capsys, device.path, "alarms", "--json")
        (stopped,) = json.loads(out)
        code, out, err = pumpctl(capsys, device.path, "alarms", "ack", str(stopped["id"]))
        assert code == ExitCode.OK
        assert "still listed while its condition holds" in " ".join(out.split())
        code, out, err = pumpctl(capsys, device.path, "alarms", "--json")
        assert json.loads(out)[0]["acked"] is True


@pytest.mark.parametrize(
    "argv, code",
    [
        (["alarms", "ack"], ExitCode.USAGE),
        (["alarms", "ack", "x"], ExitCode.USAGE),
        (["alarms", "7"], ExitCode.USAGE),
        (["alarms", "ack", "99"], ExitCode.DEVICE_REFUSED),
    ],
)
def test_alarm_ack_errors(capsys, argv, code):
    with BenchPump(running_bench()) as device:
        try:
            got = cli.main(["--port", device.path, *argv])
        except SystemExit as stop:  # argparse's own refusals
            got = stop.code
        assert got == code


def test_clock_shows_device_host_and_offset(capsys):
    with BenchPump(running_bench()) as device:
        code, out, err = pumpctl(capsys, device.path, "clock", "--json")
        host = devicetime.host_local_seconds()
    assert code == ExitCode.OK, err
    clocks = json.loads(out)
    assert clocks["device_time"] == "2027-01-15T08:00:00"
    assert abs(clocks["offset_s"] - (1_800_000_000 - host)) <= 1


def test_clock_set_sends_the_hosts_local_time(capsys):
    with FakePump() as fake:
        device = {"rtc_s": "1700000000"}

        def clock(rid, words, args):
            if words[1:] == ["SET"]:
                device["rtc_s"] = args["rtc_s"]
            return [line("OK", rid, [("rtc_s", device["rtc_s"])])]

        fake.handlers["CLOCK"] = clock
        low = devicetime.host_local_seconds()
        code, out, err = pumpctl(capsys, fake.path, "clock", "set", "--json")
        high = devicetime.host_local_seconds()
    assert code == ExitCode.OK, err
    assert low <= int(device["rtc_s"]) <= high
    report = json.loads(out)
    assert report["previous_device_time"] == "2023-11-14T22:13:20"
    assert abs(report["offset_s"]) <= 1


def test_host_local_seconds_adds_the_utc_offset(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        winter = 1_800_000_000  # 2027-01-15 08:00 UTC
        assert devicetime.host_local_seconds(winter) == winter + 3600
        assert devicetime.format_device_time(winter + 3600) == "2027-01-15 09:00:00"
    finally:
        monkeypatch.undo()
        time.tzset()
