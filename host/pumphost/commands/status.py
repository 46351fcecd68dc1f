from pumphost import units
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.render import key_value_table
from pumphost.status import PumpStatus


def _rows(status: PumpStatus) -> list[tuple[str, str]]:
    return [
        ("state", status.state),
        ("program", status.program),
        (
            "reservoir",
            f"{units.format_volume(status.reservoir_nl)} "
            f"of {units.format_volume(status.capacity_nl)}",
        ),
        ("concentration", units.format_concentration(status.conc_mcg_ml)),
        ("daily dose", units.format_daily_dose(status.dose_ng_day)),
        (
            "basal rate",
            f"{units.format_daily_rate(status.rate_nl_day)} "
            f"({units.format_hourly_rate(status.rate_nl_day)})",
        ),
        ("delivered", units.format_volume(status.delivered_nl)),
        ("alarms", ", ".join(status.alarms) or "none"),
    ]


def run(args, session: Session) -> int:
    with session.connect() as pump:
        status = pump.status()
    if session.json:
        session.print_json(status.as_json())
    else:
        session.console.print(key_value_table("Pump status", _rows(status)))
    return ExitCode.OK


COMMAND = Command(
    name="status",
    summary="show state, reservoir, dose, rate, delivered volume and alarms",
    examples="""\
examples:
  pumpctl status                          # table, units on every figure
  pumpctl status --json                   # keys: state, reservoir_ml,
                                          #   concentration_mcg_per_ml, dose_mcg_per_day,
                                          #   rate_ml_per_day, delivered_ml, alarms, ...
  PUMP_PORT=/dev/ttyACM0 pumpctl status   # default port from the environment
""",
    run=run,
)
