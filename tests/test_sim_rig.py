"""Rig control channel and stepped time, with stand-in firmware (pumpsim.fakes)."""

import json
import socket

import pytest

from pumpsim import Simulator
from pumpsim.board import load_mechanics
from pumpsim.clock import DEFAULT_EPOCH_S
from pumpsim.fakes import ECHO, basal_source, write_firmware
from pumpsim.hal import CAPS
from pumpsim.rigclient import RigClient, RigCommandError
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR

MECH = load_mechanics(DEFAULT_FIRMWARE_DIR)


def start_sim(tmp_path, source=ECHO, name="fw", **kw):
    kw.setdefault("stepped", True)
    kw.setdefault("reservoir_ul", MECH["capacity_nl"] / 1000)  # the fakes never refill
    fw = write_firmware(tmp_path / name, source)
    return Simulator(fw, mechanics=MECH, **kw).start()


@pytest.fixture
def sim(tmp_path):
    s = start_sim(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def rig(sim):
    with RigClient(sim.rig_address, timeout=30) as client:
        yield client


def raw(sim, payload):
    """Send raw bytes on a fresh connection; return the decoded response lines."""
    host, port = sim.rig_address.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        f = s.makefile("rwb")
        f.write(payload)
        f.flush()
        s.shutdown(socket.SHUT_WR)
        return [json.loads(line) for line in f]


def test_hello_describes_the_simulator(rig, sim):
    r = rig.call("hello")
    assert r["sim"] == "pump-sim" and r["rig_protocol"] == 1
    assert r["caps"] == list(CAPS) and r["board"] == "sim"
    assert r["mode"] == "stepped" and r["speed"] is None
    assert r["pty"] == sim.pty_path and r["runtime"] == "cpython"


def test_advance_moves_virtual_time_exactly(rig):
    assert rig.call("now")["now_us"] == 0
    r = rig.call("advance", ms=90_500)
    assert r["now_us"] == 90_500_000 and r["t_s"] == "90.500000"
    assert r["rtc_s"] == DEFAULT_EPOCH_S + 90
    assert rig.call("now")["now_us"] == 90_500_000  # stepped: nothing moves by itself


def test_errors_have_codes_and_the_channel_stays_up(sim):
    lines = raw(
        sim,
        b"{not json\n"
        b"[1,2]\n"
        b"\n"
        b'{"id": 7}\n'
        b'{"cmd": "fly", "id": "x"}\n'
        b'{"cmd": "advance", "ms": -1, "id": 8}\n'
        b'{"cmd": "advance", "ms": "10", "id": 9}\n'
        b'{"cmd": "speed", "speed": 0, "id": 10}\n'
        b'{"cmd": "speed", "speed": "fast", "id": 11}\n' + b"x" * (70 * 1024) + b"\n"
        b'{"cmd": "now", "id": 12}\n',
    )
    codes = [(r["id"], r["ok"], r.get("error", {}).get("code")) for r in lines]
    assert codes == [
        (None, False, "E_JSON"),
        (None, False, "E_REQUEST"),
        (7, False, "E_REQUEST"),
        ("x", False, "E_UNKNOWN_CMD"),
        (8, False, "E_ARG"),
        (9, False, "E_ARG"),
        (10, False, "E_ARG"),
        (11, False, "E_ARG"),
        (None, False, "E_TOO_LONG"),
        (12, True, None),
    ]
    assert all(r["error"]["message"] for r in lines if not r["ok"])
    assert lines[-1]["now_us"] == 0  # nothing the bad requests asked for happened


def test_advance_outside_stepped_mode_is_refused(rig):
    assert rig.call("speed", speed=50)["mode"] == "accelerated"
    with pytest.raises(RigCommandError) as err:
        rig.call("advance", ms=10)
    assert err.value.code == "E_MODE"
    r = rig.call("speed", speed="stepped")
    assert r == {"id": r["id"], "ok": True, "mode": "stepped", "speed": None}
    before = rig.call("now")["now_us"]
    assert rig.call("advance", ms=1)["now_us"] == before + 1000


def test_accelerated_time_runs_on_its_own(rig):
    rig.call("speed", speed=100_000)
    # Polling a condition, bounded by pytest-timeout: 10 virtual seconds take 0.1 ms.
    while rig.call("now")["now_us"] < 10_000_000:
        pass
    assert rig.call("hello")["speed"] == 100_000


def run_basal(tmp_path, name, plan):
    source = basal_source(
        basal_us=1_000_000, bolus_at_us=10_000_000, bolus_steps=500, bolus_interval_us=2_000
    )
    log = tmp_path / (name + ".csv")
    s = start_sim(tmp_path, source, name=name, delivery_log=str(log))
    try:
        for ms in plan:
            s.advance(ms)
        truth, mcu = s.truth(), s.mcu()
    finally:
        s.stop()
    return truth, mcu, log.read_bytes()


def test_stepped_runs_are_deterministic_and_counts_match_truth(tmp_path):
    plan = [0, 7_300, 1, 4_000, 60_000, 120_000]
    a = run_basal(tmp_path, "a", plan)
    b = run_basal(tmp_path, "b", plan)
    assert a == b
    truth, mcu, log = a
    elapsed_s = sum(plan) // 1000
    expected = elapsed_s + 500  # a basal microstep every second plus the bolus
    assert mcu["step_count"] == truth["microsteps"] == expected
    assert log.count(b"\n") == expected + 1
    assert truth["delivered_ul"] == pytest.approx(expected * truth["ul_per_microstep"])


def test_power_cycle_reboots_at_the_same_instant(rig, sim):
    rig.call("advance", ms=1_000)
    with sim.machine.cond:
        sim.machine.rx += b"Q1000,1000\n"  # as if typed on the serial line
        sim.machine.cond.notify_all()
    rig.call("advance", ms=100)
    assert rig.call("truth")["microsteps"] == 101  # pulses at 0, 1, ..., 100 ms
    r = rig.call("power_cycle")
    assert r["boots"] == 2 and r["reset_cause"] == "power_on" and r["state"] == "running"
    assert r["step_count"] == 0 and r["step_pending"] == 0  # queued steps died with the power
    assert r["now_us"] == 1_100_000
    rig.call("advance", ms=5_000)
    truth = rig.call("truth")
    assert truth["microsteps"] == 101 and not truth["driver_enabled"]


def test_firmware_crash_halts_the_mcu_and_a_power_cycle_revives_it(rig, sim, capsys):
    with sim.machine.cond:
        sim.machine.rx += b"X\n"
        sim.machine.cond.notify_all()
    rig.call("advance", ms=10)
    mcu = rig.call("mcu")
    assert mcu["state"] == "halted" and "crash requested" in mcu["error"]
    assert "RuntimeError" in capsys.readouterr().err
    assert rig.call("advance", ms=60_000)["now_us"] == 60_010_000  # the clock runs on
    assert rig.call("power_cycle")["state"] == "running"


def test_shutdown_stops_the_simulator_after_replying(tmp_path):
    info = tmp_path / "run" / "current.json"
    s = start_sim(tmp_path, info_file=info)
    assert json.loads(info.read_text())["rig"] == s.rig_address
    with RigClient(s.rig_address, timeout=30) as client:
        assert client.call("shutdown")["ok"]
    assert s.stopped.wait(10)
    assert not info.exists()


def test_refill_needle_commands_through_the_channel(tmp_path):
    s = start_sim(tmp_path, reservoir_ul=2_500.0)
    try:
        with RigClient(s.rig_address) as rig:
            with pytest.raises(RigCommandError) as err:
                rig.call("aspirate", ul=100)
            assert err.value.code == "E_NEEDLE"
            rig.call("needle", at="septum")
            r = rig.call("aspirate", ul=10_000)
            assert r["aspirated_ul"] == 2_500.0 and r["reservoir_ul"] == 0.0
            r = rig.call("inject", ul=18_000, conc_mcg_ml=500)
            assert r["event"] == "inject" and r["reservoir_ul"] == 18_000.0
            with pytest.raises(RigCommandError) as err:
                rig.call("inject", ul=2_001, conc_mcg_ml=500)
            assert err.value.code == "E_OVERFILL"
            assert rig.call("needle", at="pocket")["present"] is False
            assert s.hal.needle_present() is False
            r = rig.call("needle_detect", stuck=True)
            assert r["stuck"] is True and r["present"] is True
            assert s.hal.needle_present() is True  # a failed input: only the volume tells
            r = rig.call("inject", ul=1_000, conc_mcg_ml=2000)
            assert r["event"] == "pocket_fill" and r["pocket_fill_mcg"] == 2_000.0
            truth = rig.call("truth")
            assert truth["reservoir_ul"] == 18_000.0 and truth["pocket_fill_ul"] == 1_000.0
            assert [e["event"] for e in truth["events"]] == ["aspirate", "inject", "pocket_fill"]
            for bad in ({"ul": 0}, {"ul": "1"}, {"ul": 5, "conc_mcg_ml": -1}):
                with pytest.raises(RigCommandError) as err:
                    rig.call("inject", **{"conc_mcg_ml": 500, **bad})
                assert err.value.code == "E_ARG"
            assert rig.call("plant_error", ppm=-30_000)["error_ppm"] == -30_000
            assert rig.call("truth")["error_ppm"] == -30_000
            with pytest.raises(RigCommandError):
                rig.call("plant_error", ppm=2_000_000)
    finally:
        s.stop()
