"""pumpctl refill against the real firmware refill state machine on a pty."""

import json
import sys

import pytest
from test_host_benchpump import CTRL_C, BenchPump, Terminal, filled_bench, running_bench

from pumphost import cli
from pumphost.exitcodes import ExitCode

UNCHANGED = "REFILL ABORT sent: reservoir and therapy are exactly as before REFILL BEGIN"


@pytest.fixture
def running():
    with BenchPump(running_bench()) as device:
        yield device


def pumpctl(capsys, device, *argv):
    code = cli.main(["--port", device.path, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_scripted_refill_commits_and_moves_the_alarm_date(capsys, running):
    before = running.status()
    assert before["reservoir_nl"] == "18000000"
    code, out, err = pumpctl(
        capsys,
        running,
        "refill",
        "--aspirated",
        "18.1mL",
        "--add",
        "20mL",
        "--conc",
        "500mcg/mL",
        "--yes",
        "--json",
    )
    assert code == ExitCode.OK, err
    record = json.loads(out)
    assert record["begin"] == {
        "expected_ml": 18.0,
        "tolerance_ml": 1.0,
        "concentration_mcg_per_ml": 500,
        "capacity_ml": 20.0,
        "window_s": 1800,
        "probe_needed": False,
    }
    assert record["septum"] == {"aspirated_ml": 18.1, "expected_ml": 18.0}
    # 20 mL at 0.3 mL/day reaches the 4 mL threshold after 53 1/3 days
    assert record["review"] == {
        "change": "REFILL",
        "volume_ml": 20.0,
        "concentration_mcg_per_ml": 500,
        "capacity_ml": 20.0,
        "state_after": "RUNNING",
        "reprogram_required": False,
        "low_alarm_time": "2027-03-09T16:00:00",
    }
    assert record["result"]["reservoir_ml"] == 20.0
    assert record["result"]["low_alarm_time"] == "2027-03-09T16:00:00"
    after = running.status()
    assert after["state"] == "RUNNING" and after["reservoir_nl"] == "20000000"
    # conc2 was not given: with --yes the one --conc was sent as both entries
    sent = b"".join(running.received).decode()
    assert "conc=500mcg/mL conc2=500mcg/mL" in sent


def test_wrong_aspirated_volume_is_refused_and_the_refill_aborted(capsys, running):
    before = running.snapshot()
    status_before = running.status()
    code, out, err = pumpctl(
        capsys,
        running,
        "refill",
        "--aspirated",
        "3.1mL",
        "--add",
        "18mL",
        "--conc",
        "500mcg/mL",
        "--yes",
    )
    assert code == ExitCode.DEVICE_REFUSED
    last = err.splitlines()[-1]
    assert "E_SEPTUM" in last and "needle may be outside the reservoir septum" in last
    assert "retries_left=2" in last and last.endswith(UNCHANGED)
    assert running.status() == status_before
    assert running.snapshot() == before


def test_small_residual_needs_probe_flags_and_aborts_without_them(capsys):
    with BenchPump(filled_bench(volume="0.5mL")) as device:
        before = device.snapshot()
        code, out, err = pumpctl(
            capsys,
            device,
            "refill",
            "--aspirated",
            "0.5mL",
            "--add",
            "18mL",
            "--conc",
            "500mcg/mL",
            "--yes",
        )
        assert code == ExitCode.USAGE
        assert "--probe and --back" in err and err.rstrip().endswith(UNCHANGED)
        assert device.snapshot() == before
        code, out, err = pumpctl(
            capsys,
            device,
            "refill",
            "--aspirated",
            "0.5mL",
            "--probe",
            "2mL",
            "--back",
            "1.9mL",
            "--add",
            "18mL",
            "--conc",
            "500mcg/mL",
            "--yes",
            "--json",
        )
        assert code == ExitCode.OK, err
        assert json.loads(out)["result"]["reservoir_ml"] == 18.0


def test_guided_refill_asks_each_step_and_the_concentration_twice(capsys, monkeypatch, running):
    terminal = Terminal("18mL", "15mL", "500mcg/mL", "500mcg/mL", "y")
    monkeypatch.setattr(sys, "stdin", terminal)
    code, out, err = pumpctl(capsys, running, "refill")
    assert code == ExitCode.OK, err
    assert terminal.asked == 5 and not terminal.answers
    for shown in (
        "expected residual",
        "17 mL to 19 mL",
        "Septum access confirmed",
        "Review: REFILL",
    ):
        assert shown in out
    assert "Refill committed" in out
    assert running.status()["reservoir_nl"] == "15000000"


def test_new_concentration_requires_a_reprogram(capsys, running):
    code, out, err = pumpctl(
        capsys,
        running,
        "refill",
        "--aspirated",
        "18mL",
        "--add",
        "18mL",
        "--conc",
        "2000mcg/mL",
        "--conc2",
        "2000mcg/mL",
        "--yes",
        "--json",
    )
    assert code == ExitCode.OK, err
    record = json.loads(out)
    assert record["review"]["reprogram_required"] is True
    assert record["review"]["low_alarm_time"] is None
    assert record["result"]["state"] == "STOPPED"
    assert "CONC_MISMATCH" in record["result"]["alarms"]


@pytest.mark.parametrize(
    "answers, code, told",
    [
        (("18mL", "18mL", "500mcg/mL", "500mcg/mL", "n"), ExitCode.DECLINED, "not confirmed"),
        (("18mL", CTRL_C), ExitCode.INTERRUPTED, "interrupted"),
        ((CTRL_C,), ExitCode.INTERRUPTED, "interrupted"),
        (("18mL", "18mL", "500mcg/mL", "1000mcg/mL"), ExitCode.DEVICE_REFUSED, "differ"),
        (("18 litres",), ExitCode.USAGE, "E_UNITS"),
    ],
)
def test_no_ctrl_c_or_refusal_after_begin_leaves_the_device_as_before(
    capsys, monkeypatch, running, answers, code, told
):
    before = running.snapshot()
    status_before = running.status()
    monkeypatch.setattr(sys, "stdin", Terminal(*answers))
    got, out, err = pumpctl(capsys, running, "refill")
    assert got == code
    last = err.splitlines()[-1]
    assert told in last and last.endswith(UNCHANGED)
    assert running.status() == status_before
    assert running.snapshot() == before


@pytest.mark.parametrize(
    "argv",
    [
        ["--aspirated", "3.1mL", "--add", "18mL", "--yes"],  # no --conc, nobody to ask
        ["--aspirated", "3.1mL", "--add", "18mL", "--conc", "500mcg/mL"],  # no --yes
        [
            "--aspirated",
            "3.1mL",
            "--add",
            "18mL",
            "--conc",
            "500mcg/mL",
            "--conc2",
            "50mcg/mL",
            "--yes",
        ],
        ["--aspirated", "3.1mL", "--add", "18mL", "--conc", "0.5mg/mL", "--yes"],
        ["--aspirated", "3.1mL", "--probe", "2mL", "--add", "18mL", "--conc", "500mcg/mL", "--yes"],
    ],
)
def test_scripted_refill_input_errors_send_nothing(capsys, running, argv):
    code, out, err = pumpctl(capsys, running, "refill", *argv)
    assert code == ExitCode.USAGE
    assert err.count("\n") == 1
    assert running.received == []
