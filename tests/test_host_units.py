import pytest
from hypothesis import given
from hypothesis import strategies as st

from pumphost import units
from pumphost.errors import BadInput
from pumphost.schedule import FlexStep, parse_flex_schedule, wire_flex_steps


@pytest.mark.parametrize(
    "parse, text, device_value",
    [
        (units.parse_daily_dose, "150mcg/day", 150_000),
        (units.parse_daily_dose, "150.5 mcg/day", 150_500),
        (units.parse_daily_dose, "0.001MCG/DAY", 1),
        (units.parse_concentration, "500mcg/mL", 500),
        (units.parse_concentration, "2000 mcg/ml", 2000),
        (units.parse_volume, "3.1mL", 3_100_000),
        (units.parse_volume, "4.35mL", 4_350_000),  # 4.35 * 1e6 is 4349999.999... in binary
        (units.parse_volume, "250uL", 250_000),
        (units.parse_volume, "0.5µL", 500),
        (units.parse_volume, "12nL", 12),
        (units.parse_volume, ".5mL", 500_000),
        (units.parse_duration, "1min", 60_000),
        (units.parse_duration, "90s", 90_000),
        (units.parse_duration, "2h", 7_200_000),
        (units.parse_duration, "0.25s", 250),
    ],
)
def test_quantities_become_exact_device_integers(parse, text, device_value):
    assert parse(text) == device_value


@pytest.mark.parametrize(
    "parse, text",
    [
        (units.parse_daily_dose, "0.15mg/day"),
        (units.parse_daily_dose, "1 MG/day"),
        (units.parse_concentration, "0.5mg/mL"),
    ],
)
def test_milligrams_are_refused_not_converted(parse, text):
    with pytest.raises(BadInput) as caught:
        parse(text)
    assert caught.value.code == "E_UNITS"
    assert "micrograms" in caught.value.message
    assert "not converted" in caught.value.message


@pytest.mark.parametrize(
    "parse, text, code",
    [
        (units.parse_daily_dose, "150", "E_UNITS"),
        (units.parse_daily_dose, "150ng/day", "E_UNITS"),
        (units.parse_daily_dose, "150mcg", "E_UNITS"),
        (units.parse_daily_dose, "mcg/day", "E_VALUE"),
        (units.parse_daily_dose, "", "E_VALUE"),
        (units.parse_daily_dose, "-5mcg/day", "E_VALUE"),
        (units.parse_daily_dose, "1e3mcg/day", "E_UNITS"),
        (units.parse_daily_dose, "1,5mcg/day", "E_UNITS"),
        (units.parse_daily_dose, "0.0001mcg/day", "E_VALUE"),
        (units.parse_daily_dose, "1234567890mcg/day", "E_RANGE"),
        (units.parse_volume, "1.0000000001mL", "E_VALUE"),
        (units.parse_concentration, "1.5mcg/mL", "E_VALUE"),
        (units.parse_volume, "3.1", "E_UNITS"),
        (units.parse_volume, "3.1L", "E_UNITS"),
        (units.parse_volume, "0.1nL", "E_VALUE"),
        (units.parse_duration, "1.5ms", "E_UNITS"),
        (units.parse_duration, "5days", "E_UNITS"),
    ],
)
def test_malformed_quantities_are_refused_with_a_code(parse, text, code):
    with pytest.raises(BadInput) as caught:
        parse(text)
    assert caught.value.code == code


def test_formatting_puts_a_unit_on_every_figure():
    assert units.format_volume(18_453_999) == "18.453 mL"  # never shows more than there is
    assert units.format_volume(20_000_000) == "20 mL"
    assert units.format_daily_dose(150_500) == "150.5 mcg/day"
    assert units.format_concentration(500) == "500 mcg/mL"
    assert units.format_daily_rate(300_000) == "0.3 mL/day"
    assert units.format_hourly_rate(300_000) == "12.5 uL/h"
    assert units.format_duration(90_000) == "1.5 min"
    assert units.format_duration(250) == "250 ms"


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_daily_dose_round_trips(ng_per_day):
    assert units.parse_daily_dose(units.format_daily_dose(ng_per_day)) == ng_per_day


@given(st.integers(min_value=0, max_value=10**9))
def test_whole_microlitre_volumes_round_trip(microlitres):
    nl = microlitres * units.NL_PER_UL
    assert units.parse_volume(units.format_volume(nl)) == nl


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(min_value=0, max_value=999_999))
def test_decimal_millilitres_parse_exactly(whole, fraction):
    text = f"{whole}.{fraction:06d}mL"
    assert units.parse_volume(text) == whole * units.NL_PER_ML + fraction


@given(st.integers(min_value=0, max_value=10**6))
def test_concentration_round_trips(mcg_per_ml):
    assert units.parse_concentration(units.format_concentration(mcg_per_ml)) == mcg_per_ml


@pytest.mark.parametrize(
    "parse, wire, text, on_the_wire",
    [
        (units.parse_daily_dose, units.wire_daily_dose, " 150.500 MCG/day", "150.5mcg/day"),
        (units.parse_dose, units.wire_dose, "50mcg", "50mcg"),
        (units.parse_dose, units.wire_dose, "0.001mcg", "0.001mcg"),
        (units.parse_concentration, units.wire_concentration, "2000 mcg/ml", "2000mcg/mL"),
        (units.parse_volume, units.wire_volume, "3.10 ML", "3.1mL"),
        (units.parse_volume, units.wire_volume, "250uL", "0.25mL"),
        (units.parse_volume, units.wire_volume, "100mL", "100mL"),
        (units.parse_duration, units.wire_duration, "1.5min", "90s"),
        (units.parse_duration, units.wire_duration, "0.25s", "0.25s"),
    ],
)
def test_checked_quantities_go_out_in_the_protocol_spelling(parse, wire, text, on_the_wire):
    assert wire(parse(text)) == on_the_wire


@pytest.mark.parametrize(
    "text, code", [("0.05mg", "E_UNITS"), ("50", "E_UNITS"), ("-5mcg", "E_VALUE")]
)
def test_bad_doses_are_refused_with_a_code(text, code):
    with pytest.raises(BadInput) as caught:
        units.parse_dose(text)
    assert caught.value.code == code


def test_flex_schedule_becomes_device_steps():
    steps = parse_flex_schedule("00:00=100mcg/day, 06:30=150.5mcg/day")
    assert steps == [FlexStep(0, 100_000), FlexStep(390, 150_500)]
    assert wire_flex_steps(steps) == "00:00@100mcg/day,06:30@150.5mcg/day"


@pytest.mark.parametrize(
    "text, code",
    [
        ("06:00@100mcg/day", "E_VALUE"),
        ("6:00=100mcg/day", "E_VALUE"),
        ("24:00=100mcg/day", "E_RANGE"),
        ("06:00=0.1mg/day", "E_UNITS"),
    ],
)
def test_bad_flex_schedules_are_refused_with_a_code(text, code):
    with pytest.raises(BadInput) as caught:
        parse_flex_schedule(text)
    assert caught.value.code == code
