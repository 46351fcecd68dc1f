"""Flex schedules as technicians type them, and as the device wants them.

A technician writes `00:00=100mcg/day,06:00=150mcg/day` (time of day on the
device clock = daily dose from then on); protocol v1 wants
`steps=00:00@100mcg/day,06:00@150mcg/day`. The host checks the syntax and units
so a typo fails before anything is sent; how many steps, and in what order, is
the device's rule to enforce.
"""

from dataclasses import dataclass

from pumphost import units
from pumphost.errors import BadInput

EXAMPLE = "00:00=100mcg/day,06:00=150mcg/day"


@dataclass(frozen=True)
class FlexStep:
    minute_of_day: int
    dose_ng_day: int


def parse_flex_schedule(text: str) -> list[FlexStep]:
    steps = []
    for part in text.split(","):
        at, equals, dose = part.partition("=")
        if not equals:
            raise BadInput("E_VALUE", f"flex step {part.strip()!r} is not HH:MM=<dose> ({EXAMPLE})")
        steps.append(FlexStep(units.parse_time_of_day(at), units.parse_daily_dose(dose)))
    return steps


def wire_flex_steps(steps: list[FlexStep]) -> str:
    return ",".join(
        f"{units.wire_time_of_day(step.minute_of_day)}@{units.wire_daily_dose(step.dose_ng_day)}"
        for step in steps
    )
