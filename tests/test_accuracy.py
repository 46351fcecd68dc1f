"""Accuracy analysis (pumpsim.accuracy) on synthetic delivery logs.

The logs come from an ideal step scheduler written here independently of the
firmware and of the analysis: step k happens at the first whole microsecond where
the exact programmed volume reaches k - 1/2 microsteps, and the plant delivers each
step with the true (math.pi) microstep volume. Such a pump is the best a stepper
can do, so the analysis must find it within one microstep everywhere; logs of a
pump that over-delivers or misses an hour must be reported as failing.
"""

import json
import math
from fractions import Fraction

import corehal  # noqa: F401  (puts firmware/ on sys.path)
import pytest

from pump import therapy
from pumpsim.accuracy.analysis import analyse
from pumpsim.accuracy.expected import (
    ExpectedDelivery,
    FlexStep,
    Piece,
    Programme,
    build_expected,
    volume_nl,
)
from pumpsim.accuracy.groundtruth import LogRow
from pumpsim.accuracy.scenarios import CONTINUOUS_LOW, FLEX_WITH_BOLUS, SCENARIOS, run_scenario
from pumpsim.board import load_mechanics
from pumpsim.deliverylog import DeliveryLog
from pumpsim.plant import true_ul_per_microstep
from pumpsim.runtime import DEFAULT_FIRMWARE_DIR

MECHANICS = load_mechanics(DEFAULT_FIRMWARE_DIR)
USTEP_UL = Fraction(MECHANICS["ustep_pl"], 10**6)  # what the firmware plans with
TRUE_UL = true_ul_per_microstep(MECHANICS)  # what the plant really moves
T0_S = Fraction("12.345678")  # therapy starts a little after the simulator
T0_US = 12_345_678
PRIMING_STEPS = 40  # delivered before therapy start: the analysis must not count them
HOUR = 3600


def ideal_log(pieces, rate_factor=Fraction(1)):
    """Delivery log of a perfect stepper following `pieces` (times since therapy start),
    each rate scaled by `rate_factor`, preceded by a short priming."""
    rows = [LogRow(1000 * k, k, k * TRUE_UL) for k in range(1, PRIMING_STEPS + 1)]
    programmed = Fraction(0)  # exact volume asked for up to the current piece's start
    k = 1
    for piece in pieces:
        rate = piece.rate_ul_per_s * rate_factor
        while rate:
            crossing_s = piece.t_start_s + ((k - Fraction(1, 2)) * USTEP_UL - programmed) / rate
            if crossing_s > piece.t_end_s:
                break
            moved = PRIMING_STEPS + k
            rows.append(LogRow(T0_US + math.ceil(crossing_s * 10**6), moved, moved * TRUE_UL))
            k += 1
        programmed += rate * (piece.t_end_s - piece.t_start_s)
    return rows


def analysed(rows, expected, **kw):
    return analyse(rows, expected, float(USTEP_UL), str(T0_S), **kw)


def all_windows(summary):
    return [w for period in summary["trumpet"].values() for w in period["windows"]]


# -- the programmed reference mirrors the firmware ------------------------------


def test_volume_rounding_is_the_firmwares():
    for conc in (50, 500, 1000, 2000):
        for ng in list(range(0, 5000, 7)) + [100_000, 333_333, 800_000, 1_234_567]:
            assert volume_nl(ng, conc) == therapy.volume_nl(ng, conc)


def test_continuous_programme_is_one_exact_rate():
    expected = build_expected(CONTINUOUS_LOW.programme)
    # 100 mcg/day at 500 mcg/mL = 0.2 mL/day
    rate = Fraction(200_000, 1000 * 86400)
    assert expected.pieces == (Piece(Fraction(0), Fraction(86400), rate),)
    assert expected.total_ul == 200


def test_flex_daily_total_matches_the_firmware_and_the_bolus_adds_on_top():
    programme = FLEX_WITH_BOLUS.programme
    expected = build_expected(programme)
    firmware_program = therapy.make_program(
        "FLEX", 500, [(0, 100_000), (6 * HOUR * 1000, 150_000), (12 * HOUR * 1000, 120_000),
                      (18 * HOUR * 1000, 200_000)])
    _, basal_nl = therapy.daily_totals(firmware_program)
    assert basal_nl == 285_000
    assert expected.total_ul == Fraction(basal_nl, 1000) + 100  # 50 mcg at 500 mcg/mL
    during_bolus = expected.volume_ul(11 * HOUR + 31) - expected.volume_ul(11 * HOUR + 30)
    assert during_bolus == Fraction(300_000, 1000 * 86400) + Fraction(100, 60)


def test_flex_steps_follow_the_clock_at_therapy_start():
    programme = Programme(conc_mcg_ml=500, basal=(FlexStep("06:00", 100), FlexStep("18:00", 200)),
                          start_clock="23:00", duration_s=2 * 86400)
    expected = build_expected(programme)
    low, high = Fraction(200_000, 1000 * 86400), Fraction(400_000, 1000 * 86400)
    # 23:00 is in the 18:00 step; 06:00 comes 7 h later; the pattern repeats next day
    assert [(p.t_start_s, p.rate_ul_per_s) for p in expected.pieces] == [
        (0, high), (7 * HOUR, low), (19 * HOUR, high), (31 * HOUR, low), (43 * HOUR, high)]


# -- an ideal stepper is within one microstep everywhere ------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_ideal_stepper_is_within_one_microstep(scenario):
    expected = build_expected(scenario.programme)
    summary = analysed(ideal_log(expected.pieces), expected)
    total = summary["total"]
    assert abs(total["error_usteps"]) < 1
    # whole microsteps: the programmed volume rounded to the nearest one
    assert total["delivered_microsteps"] == round(total["programmed_usteps"])
    for window in all_windows(summary):
        assert -1 <= window["min_usteps"] <= window["max_usteps"] <= 1
        # in percent, no more than one microstep of the smallest programmed window
        assert window["max_pct"] <= window["one_ustep_pct"]
        assert window["min_pct"] >= -window["one_ustep_pct"]
    # rounding to the nearest microstep, plus the true-vs-planned volume mismatch:
    # half a microstep ahead just after a step, half behind just before the next
    instant = summary["instantaneous"]
    assert instant["max_abs_usteps"] < 0.53
    assert 0.45 < instant["max_ahead_usteps"] and instant["max_behind_usteps"] < -0.45
    assert summary["within_one_ustep"] == {"total": True, "windows": True, "instantaneous": True}


def test_summary_reports_both_periods_and_every_window():
    expected = build_expected(CONTINUOUS_LOW.programme)
    summary = analysed(ideal_log(expected.pieces), expected, scenario=CONTINUOUS_LOW.describe())
    assert summary["scenario"]["title"] == "100 mcg/day at 500 mcg/mL"
    second, full = summary["trumpet"]["second_hour"], summary["trumpet"]["full_run"]
    assert second["period_s"] == [3600, 7200] and full["period_s"] == [0, 86400]
    assert [w["minutes"] for w in full["windows"]] == [2, 5, 11, 19, 31]
    # window starts every 30 s, each window wholly inside the period
    assert [w["positions"] for w in second["windows"]] == [117, 111, 99, 83, 59]
    assert full["windows"][0]["positions"] == (86400 - 120) // 30 + 1
    # the figures are plain JSON numbers
    assert json.loads(json.dumps(summary)) == summary


# -- a faulty pump is reported as such --------------------------------------------


def test_three_percent_over_delivery_is_reported():
    expected = build_expected(CONTINUOUS_LOW.programme)
    summary = analysed(ideal_log(expected.pieces, rate_factor=Fraction(103, 100)), expected)
    total = summary["total"]
    assert total["error_pct"] == pytest.approx(3, abs=0.05)
    assert total["error_usteps"] == pytest.approx(0.03 * 200 / float(USTEP_UL), abs=1)
    longest = summary["trumpet"]["full_run"]["windows"][-1]
    assert longest["max_usteps"] > 1
    assert longest["min_pct"] > 0  # 31 minutes is long enough to show it in every window
    assert summary["within_one_ustep"] == {"total": False, "windows": False, "instantaneous": False}


def test_missing_hour_is_reported():
    expected = build_expected(CONTINUOUS_LOW.programme)
    rate = expected.pieces[0].rate_ul_per_s
    # the pump stood still from 5 h to 6 h and then carried on without catching up
    stalled = [Piece(Fraction(0), Fraction(5 * HOUR), rate),
               Piece(Fraction(5 * HOUR), Fraction(6 * HOUR), Fraction(0)),
               Piece(Fraction(6 * HOUR), Fraction(86400), rate)]
    summary = analysed(ideal_log(stalled), expected)
    assert summary["total"]["error_pct"] == pytest.approx(-100 / 24, abs=0.05)
    shortest = summary["trumpet"]["full_run"]["windows"][0]
    assert shortest["min_pct"] == -100  # windows inside the stall delivered nothing
    assert summary["instantaneous"]["max_behind_usteps"] < -20
    # the second hour came before the stall: clean
    assert all(-1 <= w["min_usteps"] and w["max_usteps"] <= 1
               for w in summary["trumpet"]["second_hour"]["windows"])
    assert summary["within_one_ustep"]["windows"] is False


def test_paused_windows_report_microsteps_only():
    rate = Fraction(200, 86400)
    paused = ExpectedDelivery([Piece(Fraction(0), Fraction(HOUR), rate),
                               Piece(Fraction(2 * HOUR), Fraction(3 * HOUR), rate)])
    summary = analysed(ideal_log(paused.pieces), paused, duration_s=3 * HOUR)
    for window in summary["trumpet"]["second_hour"]["windows"]:
        assert window["max_pct"] is None and window["min_pct"] is None
        assert window["max_usteps"] == window["min_usteps"] == 0
    assert summary["within_one_ustep"]["windows"] is True


# -- the hook the benchmark calls -----------------------------------------------


def test_run_scenario_reads_the_simulators_log_and_writes_figures(tmp_path):
    expected = build_expected(FLEX_WITH_BOLUS.programme)
    log_path = tmp_path / "delivery.csv"
    log = DeliveryLog(log_path)
    for row in ideal_log(expected.pieces):
        log.row(*row)
    log.close()
    summary = run_scenario(FLEX_WITH_BOLUS, tmp_path / "out", log_path, str(T0_S), float(USTEP_UL))
    assert summary["within_one_ustep"] == {"total": True, "windows": True, "instantaneous": True}
    stem = tmp_path / "out" / FLEX_WITH_BOLUS.name
    assert json.loads(stem.with_suffix(".json").read_text()) == summary
    for suffix in ("-trumpet.png", "-delivery.png"):
        png = stem.parent / (stem.name + suffix)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
