from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.statusview import status_table


def run(args, session: Session) -> int:
    with session.connect() as pump:
        status = pump.status()
    if session.json:
        session.print_json(status.as_json())
    else:
        session.console.print(status_table(status))
    return ExitCode.OK


COMMAND = Command(
    name="status",
    summary="show state, reservoir and its forecast, dose, rate, delivered volume and alarms",
    examples="""\
examples:
  pumpctl status                          # table, units on every figure, device
                                          #   times as local date-times
  pumpctl status --json                   # keys: state, reason, reservoir_ml,
                                          #   concentration_mcg_per_ml, dose_mcg_per_day,
                                          #   rate_ml_per_day, low_in_s, low_alarm_time, ...
  PUMP_PORT=/dev/ttyACM0 pumpctl status   # default port from the environment
""",
    run=run,
)
