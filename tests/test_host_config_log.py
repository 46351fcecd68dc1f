"""pumpctl log, config, the configuration file, --login and completion, against
the real firmware controller behind a pty (test_host_benchpump)."""

import csv
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime

import corehal
import pytest
from corehal import ENG_KEY, TECH_KEY
from test_host_benchpump import BenchPump, filled_bench

from pump.store import RecordStore
from pumphost import cli
from pumphost.commands import COMMANDS
from pumphost.exitcodes import ExitCode

START_RTC = 1_800_000_000  # corehal's device clock at boot


@pytest.fixture(autouse=True)
def own_config_dir(monkeypatch, tmp_path):
    """Each test has its own (empty) per-user configuration folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cli.PORT_ENV, raising=False)
    return tmp_path / "xdg" / "pumpctl"


def write_config(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


def pumpctl(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def provisioned_for_eng():
    hal = corehal.CoreHal()
    RecordStore(hal, "keys").save({"tech": TECH_KEY, "eng": ENG_KEY})
    return corehal.Bench(hal)


def local(rtc):
    """A device time typed as a person would: local date-time, no zone."""
    return datetime.fromtimestamp(rtc, UTC).replace(tzinfo=None).isoformat(sep=" ")


# ---- log -----------------------------------------------------------------------
def logged_bench():
    """Over 200 entries (more than one LOG page), a programme an hour after the fill."""
    bench = filled_bench()
    for _ in range(220):
        bench.ok(f"CLOCK SET rtc_s={START_RTC}")
    bench.run_for(3600 * 1_000_000)
    bench.confirm("PROGRAM CONT dose=100mcg/day conc=500mcg/mL")
    return bench


def test_log_exports_every_page_as_csv_and_json(capsys):
    bench = logged_bench()
    newest = bench.ctl.log.seq - 1
    with BenchPump(bench) as device:
        code, out, err = pumpctl(capsys, "--port", device.path, "log")
        assert code == ExitCode.OK, err
        rows = list(csv.DictReader(io.StringIO(out)))
        code, out, err = pumpctl(capsys, "--port", device.path, "log", "--json")
        assert code == ExitCode.OK, err
        entries = json.loads(out)
    assert len(rows) > 200 and rows[0]["seq"] == "0"
    assert [int(r["seq"]) for r in rows] == list(range(int(rows[-1]["seq"]) + 1))
    assert int(rows[-1]["seq"]) >= newest
    assert {"REFILL", "CLOCK_SET", "PROGRAM"} <= {r["event"] for r in rows}
    program = next(e for e in entries if e["event"] == "PROGRAM")
    assert program["fields"]["conc"] == "500" and program["time"].startswith("2027-")
    assert [e["seq"] for e in entries] == [int(r["seq"]) for r in rows]


def test_log_time_range_in_local_time_or_unix_seconds(capsys, tmp_path):
    bench = logged_bench()
    later = START_RTC + 1800
    with BenchPump(bench) as device:
        code, out, err = pumpctl(
            capsys, "--port", device.path, "log", "--from", local(later), "--format", "json"
        )
        assert code == ExitCode.OK, err
        by_date = json.loads(out)
        target = tmp_path / "early.csv"
        code, _, err = pumpctl(
            capsys, "--port", device.path, "log", "--to", str(later), "-o", str(target)
        )
        assert code == ExitCode.OK and "entries written to" in err
    early = list(csv.DictReader(target.open()))
    assert by_date and all(e["rtc_s"] >= later for e in by_date)
    assert "PROGRAM" in {e["event"] for e in by_date}
    assert early and all(int(r["rtc_s"]) <= later for r in early)
    assert "PROGRAM" not in {r["event"] for r in early}


@pytest.mark.parametrize(
    "argv",
    [
        ["--from", "yesterday"],
        ["--from", "2027-01-01T00:00+01:00"],
        ["--from", "1900000000", "--to", "1800000000"],
    ],
)
def test_log_bad_time_range_is_exit_2_and_sends_nothing(capsys, argv):
    with BenchPump(filled_bench()) as device:
        code, out, err = pumpctl(capsys, "--port", device.path, "log", *argv)
        assert code == ExitCode.USAGE and out == "" and err.count("\n") == 1
        assert device.received == []


# ---- config ------------------------------------------------------------------------
def test_config_show_and_set_with_an_engineering_session(capsys):
    bench = provisioned_for_eng()
    bench.login(role="eng", user="eve", key=ENG_KEY)
    with BenchPump(bench) as device:
        code, out, err = pumpctl(capsys, "--port", device.path, "config", "--json")
        assert code == ExitCode.OK, err
        shown = json.loads(out)
        assert shown["concentrations"] == [50, 500, 1000, 2000]
        assert shown["syringe"] == "bd-20ml" and shown["reboot_pending"] is False
        code, out, err = pumpctl(
            capsys,
            "--port",
            device.path,
            "config",
            "set",
            "max_boluses_24h=2",
            "titration_profile=spinal",
            "--yes",
            "--json",
        )
        assert code == ExitCode.OK, err
        done = json.loads(out)
        assert done["review"]["applies"] == "now"
        assert done["review"]["changed"] == ["max_boluses_24h", "titration_profile"]
        assert done["result"]["max_boluses_24h"] == 2
        code, out, err = pumpctl(capsys, "--port", device.path, "config")
        assert code == ExitCode.OK and "per 24 h" in out and "spinal" in out
    assert bench.ctl.limits["max_boluses_24h"] == 2


def test_config_refusal_names_the_key_and_changes_nothing(capsys):
    bench = provisioned_for_eng()
    bench.login(role="eng", user="eve", key=ENG_KEY)
    with BenchPump(bench) as device:
        code, _, err = pumpctl(
            capsys, "--port", device.path, "config", "set", "min_bolus_ms=1000", "--yes"
        )
        assert code == ExitCode.DEVICE_REFUSED and "key=min_bolus_ms" in err
        code, _, err = pumpctl(capsys, "--port", device.path, "config", "set", "bogus=1", "--yes")
        assert code == ExitCode.USAGE
    assert bench.ctl.limits["min_bolus_ms"] == 60000 and bench.ctl.pending is None


def test_login_flag_uses_the_key_store_named_in_the_config_file(capsys, own_config_dir, tmp_path):
    bench = provisioned_for_eng()  # the bench keeps a technician logged in
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    key_file = keys / f"{bench.ctl.access.device_id}.eng.key"
    key_file.write_text(ENG_KEY + "\n")
    key_file.chmod(0o600)
    write_config(own_config_dir, f'keys = "{keys}"\nuser = "eve"\n')
    with BenchPump(bench) as device:
        code, _, err = pumpctl(capsys, "--port", device.path, "config")
        assert code == ExitCode.DEVICE_REFUSED and "E_AUTH" in err
        code, out, err = pumpctl(capsys, "--port", device.path, "--login", "eng", "config")
        assert code == ExitCode.OK, err
        assert "syringe" in out
    session = bench.ctl.access.session
    assert session is not None and session["user"] == "eve"


# ---- configuration file ------------------------------------------------------------
def test_config_file_port_is_used_and_flags_and_environment_override_it(
    capsys, own_config_dir, monkeypatch
):
    write_config(own_config_dir, 'port = "/dev/from-config-file"\ntimeout = 1.5\n')
    code, _, err = pumpctl(capsys, "status")
    assert code == ExitCode.PORT_UNAVAILABLE and "/dev/from-config-file" in err
    monkeypatch.setenv(cli.PORT_ENV, "/dev/from-environment")
    code, _, err = pumpctl(capsys, "status")
    assert "/dev/from-environment" in err
    with BenchPump(filled_bench()) as device:
        code, out, err = pumpctl(capsys, "--port", device.path, "status", "--json")
    assert code == ExitCode.OK and json.loads(out)["state"] == "STOPPED"


@pytest.mark.parametrize(
    "text",
    [
        "port = ",
        'prot = "sim"',
        "timeout = -1",
        'timeout = "3"',
        'role = "admin"',
        'user = "bad name"',
        "port = 5",
    ],
)
def test_malformed_config_file_is_one_line_exit_2(capsys, own_config_dir, text):
    write_config(own_config_dir, text + "\n")
    code, out, err = pumpctl(capsys, "ports")
    assert code == ExitCode.USAGE and out == ""
    assert err.startswith("pumpctl: E_CONFIG: ") and err.count("\n") == 1
    assert "config.toml" in err


# ---- completion ------------------------------------------------------------------
def complete(script, *words):
    """What bash offers after typing `words` (the last may be partial)."""
    line = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=(pumpctl {line}); COMP_CWORD={len(words)}; _pumpctl; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion_script_completes_commands_options_and_values(capsys):
    code, script, _ = pumpctl(capsys, "completion", "bash")
    assert code == ExitCode.OK
    assert set(c.name for c in COMMANDS) <= set(complete(script, ""))
    assert complete(script, "con") == ["config"]
    assert "--interval" in complete(script, "watch", "--")
    assert complete(script, "--login", "") == ["tech", "eng"]
    assert complete(script, "log", "--format", "j") == ["json"]
    assert "max_boluses_24h=" in complete(script, "config", "set", "max_")
    code, zsh, _ = pumpctl(capsys, "completion", "zsh")
    assert code == ExitCode.OK and "bashcompinit" in zsh and script in zsh


def test_every_subcommand_has_help_with_examples(capsys):
    for command in COMMANDS:
        with pytest.raises(SystemExit) as done:
            cli.main([command.name, "--help"])
        out, _ = capsys.readouterr()
        assert done.value.code == 0 and "examples:" in out, command.name
