"""pumpctl's two-phase therapy verbs against the real firmware core on a pty."""

import json
import sys

import pytest
from test_host_benchpump import (
    CTRL_C,
    BenchPump,
    Terminal,
    filled_bench,
    running_bench,
)

from pumphost import cli
from pumphost.exitcodes import ExitCode


@pytest.fixture
def running():
    with BenchPump(running_bench()) as device:
        yield device


@pytest.fixture
def filled():
    with BenchPump(filled_bench()) as device:
        yield device


def pumpctl(capsys, device, *argv):
    code = cli.main(["--port", device.path, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def at_terminal(monkeypatch, *answers) -> Terminal:
    terminal = Terminal(*answers)
    monkeypatch.setattr(sys, "stdin", terminal)
    return terminal


def test_program_yes_json_reviews_then_applies(capsys, running):
    # A decrease: the device allows no increase in the first 24 h of therapy.
    code, out, err = pumpctl(
        capsys, running, "program", "--dose", "100mcg/day", "--conc", "500mcg/mL", "--yes", "--json"
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert report["review"] == {
        "change": "PROGRAM",
        "program": "CONT",
        "concentration_mcg_per_ml": 500,
        "steps": [
            {
                "from": "00:00",
                "dose_mcg_per_day": 100.0,
                "rate_ml_per_day": 0.2,
                "rate_ul_per_hour": pytest.approx(8.3333, abs=1e-4),
            }
        ],
        "total_dose_mcg_per_day": 100.0,
        "total_rate_ml_per_day": 0.2,
        "total_rate_ul_per_hour": pytest.approx(8.3333, abs=1e-4),
        "state_after": "RUNNING",
        "override": None,
    }
    assert report["result"]["dose_mcg_per_day"] == 100.0
    assert report["result"]["rate_ml_per_day"] == 0.2
    assert running.status()["dose_ng_day"] == "100000"


def test_program_at_a_terminal_shows_review_with_rates_and_applies_on_yes(
    capsys, monkeypatch, running
):
    terminal = at_terminal(monkeypatch, "y")
    code, out, err = pumpctl(
        capsys, running, "program", "--dose", "120mcg/day", "--conc", "500mcg/mL"
    )
    assert code == ExitCode.OK, err
    assert terminal.asked == 1
    review = out[: out.index("Confirm?")]
    for figure in (
        "150 mcg/day",
        "120 mcg/day",
        "0.3 mL/day",
        "0.24 mL/day",
        "12.5 uL/h",
        "10 uL/h",
    ):
        assert figure in review
    assert "PROGRAM confirmed" in out
    assert running.status()["dose_ng_day"] == "120000"


def test_answering_no_cancels_and_changes_nothing(capsys, monkeypatch, running):
    before = running.snapshot()
    at_terminal(monkeypatch, "n")
    code, out, err = pumpctl(
        capsys, running, "program", "--dose", "120mcg/day", "--conc", "500mcg/mL"
    )
    assert code == ExitCode.DECLINED
    assert (
        err.splitlines()[-1] == "pumpctl: not confirmed: CANCEL sent; nothing changed on the device"
    )
    assert running.snapshot() == before  # including no proposal left pending


def test_ctrl_c_at_the_prompt_cancels_and_changes_nothing(capsys, monkeypatch, running):
    before = running.snapshot()
    at_terminal(monkeypatch, CTRL_C)
    code, out, err = pumpctl(capsys, running, "stop", "--reason", "test")
    assert code == ExitCode.INTERRUPTED
    assert "CANCEL sent" in err.splitlines()[-1]
    assert running.snapshot() == before


def test_flex_schedule_goes_to_the_device_in_its_step_form(capsys, running):
    code, out, err = pumpctl(
        capsys,
        running,
        "program",
        "--flex",
        "00:00=100mcg/day, 06:00=150mcg/day,12:00=120mcg/day,18:00=200mcg/day",
        "--conc",
        "500mcg/mL",
        "--yes",
        "--json",
    )
    assert code == ExitCode.OK, err
    sent = b"".join(running.received).decode()
    assert "steps=00:00@100mcg/day,06:00@150mcg/day,12:00@120mcg/day,18:00@200mcg/day" in sent
    report = json.loads(out)
    assert [s["from"] for s in report["review"]["steps"]] == ["00:00", "06:00", "12:00", "18:00"]
    assert report["review"]["total_dose_mcg_per_day"] == 142.5
    assert report["result"]["program"] == "FLEX"


@pytest.mark.parametrize(
    "argv",
    [
        ["program", "--dose", "0.15mg/day", "--conc", "500mcg/mL", "--yes"],
        ["program", "--dose", "150mcg/day", "--conc", "0.5mg/mL", "--yes"],
        ["program", "--flex", "06:00=100mcg/day,25:00=1mcg/day", "--conc", "500mcg/mL", "--yes"],
        ["bolus", "--dose", "0.05mg", "--over", "1min", "--yes"],
        ["bolus", "--dose", "50mcg", "--over", "1 fortnight", "--yes"],
        ["prime", "--vol", "0.2", "--yes"],
        ["program", "--dose", "150mcg/day", "--conc", "500mcg/mL", "--json"],  # no --yes
        ["program", "--dose", "150mcg/day", "--conc", "500mcg/mL"],  # no terminal, no --yes
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent(capsys, running, argv):
    before = running.snapshot()
    code, out, err = pumpctl(capsys, running, *argv)
    assert code == ExitCode.USAGE
    assert err.startswith("pumpctl: E_") and err.count("\n") == 1
    assert running.received == []
    assert running.snapshot() == before


def test_mg_is_refused_by_the_host_saying_why(capsys, running):
    code, out, err = pumpctl(
        capsys, running, "program", "--dose", "0.15mg/day", "--conc", "500mcg/mL", "--yes"
    )
    assert code == ExitCode.USAGE
    assert "E_UNITS" in err and "mg is refused" in err


def test_device_limit_refusal_is_exit_1_naming_the_rule(capsys, running):
    before = running.snapshot()
    code, out, err = pumpctl(
        capsys, running, "program", "--dose", "5000mcg/day", "--conc", "500mcg/mL", "--yes"
    )
    assert code == ExitCode.DEVICE_REFUSED
    assert "E_LIMIT" in err and "rule=max_daily_dose" in err
    assert running.snapshot() == before


def test_bolus_review_shows_volume_and_derived_rate(capsys, running):
    code, out, err = pumpctl(
        capsys, running, "bolus", "--dose", "50mcg", "--over", "1min", "--yes", "--json"
    )
    assert code == ExitCode.OK, err
    review = json.loads(out)["review"]
    assert review["volume_ml"] == 0.1 and review["over_s"] == 60.0
    assert review["rate_ml_per_day"] == 144.0 and review["rate_ul_per_hour"] == 6000.0
    assert review["basal"] == "continues"
    assert json.loads(out)["result"]["bolus_mcg"] == 50.0


def test_prime_while_stopped(capsys, filled):
    code, out, err = pumpctl(capsys, filled, "prime", "--vol", "0.2mL", "--yes", "--json")
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert report["review"]["volume_ml"] == 0.2 and report["review"]["over_s"] == 12.0
    assert report["result"]["state"] == "PRIMING"


def test_pause_resume_stop_start_record_their_reasons(capsys, running):
    for argv, state, reason in (
        (["pause", "--reason", "MRI scan"], "PAUSED", "MRI scan"),
        (["resume"], "RUNNING", "resume"),
        (["stop", "--reason", "explant"], "STOPPED", "explant"),
        (["start", "--reason", "reimplanted"], "RUNNING", "reimplanted"),
    ):
        code, out, err = pumpctl(capsys, running, *argv, "--yes", "--json")
        assert code == ExitCode.OK, err
        result = json.loads(out)["result"]
        assert (result["state"], result["reason"]) == (state, reason)


def test_stop_needs_a_reason(capsys, running):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--port", running.path, "stop", "--yes"])
    assert caught.value.code == ExitCode.USAGE
    assert running.received == []


def test_status_shows_the_reservoir_forecast(capsys, running):
    code, out, err = pumpctl(capsys, running, "status", "--json")
    assert code == ExitCode.OK
    status = json.loads(out)
    # 18 mL at 0.3 mL/day: low (4 mL) after 14 mL = 46 2/3 days, empty after 60 days
    assert status["low_in_s"] == 14 * 86400 * 10 // 3
    assert status["empty_in_s"] == 60 * 86400
    assert status["low_alarm_time"] == "2027-03-03T00:00:00"
    assert status["filled_time"] == "2027-01-15T08:00:00"
    assert status["bolus_mcg"] == 0.0 and status["reason"] == "start"
    code, out, err = pumpctl(capsys, running, "status")
    assert "in 46 d 16 h 0 min, at 2027-03-03 00:00:00" in out
    assert "in 60 d 0 h 0 min" in out


def test_titration_override_is_sent_and_reviewed(capsys):
    bench = running_bench()
    bench.run_for(25 * 3600 * 1_000_000)  # past the first 24 h of therapy
    with BenchPump(bench) as device:
        doubled = ["program", "--dose", "300mcg/day", "--conc", "500mcg/mL", "--yes", "--json"]
        code, out, err = pumpctl(capsys, device, *doubled)
        assert code == ExitCode.DEVICE_REFUSED
        assert "rule=titration_step" in err
        code, out, err = pumpctl(capsys, device, *doubled, "--override", "spinal origin, MD order")
        assert code == ExitCode.OK, err
        assert json.loads(out)["review"]["override"] == "spinal origin, MD order"
        assert device.status()["dose_ng_day"] == "300000"
