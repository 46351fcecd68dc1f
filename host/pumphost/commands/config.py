import re

from pumphost import configview
from pumphost.command import Command, Session
from pumphost.errors import BadInput
from pumphost.exitcodes import ExitCode
from pumphost.fields import text
from pumphost.render import key_value_table
from pumphost.twophase import Review, add_yes_option, require_a_way_to_confirm, settle

_SETTING = re.compile(r"([a-z0-9_]+)=(\S+)")
SETTINGS = configview.MECHANICS[:-1] + configview.LIMITS  # ustep_pl is derived, not set


def _parse_settings(items: list[str]) -> dict[str, str]:
    """KEY=VALUE words, checked for form only: the device judges the values."""
    if not items:
        raise BadInput("E_ARG", "config set needs KEY=VALUE, e.g. max_boluses_24h=2")
    out: dict[str, str] = {}
    for item in items:
        match = _SETTING.fullmatch(item)
        if not match:
            raise BadInput("E_ARG", f"{item!r} is not KEY=VALUE")
        key, value = match.groups()
        if key not in SETTINGS:
            raise BadInput("E_ARG", f"unknown setting {key} (known: {', '.join(SETTINGS)})")
        if key in out:
            raise BadInput("E_ARG", f"{key} given twice")
        out[key] = value
    return out


def _show(session: Session) -> int:
    with session.connect() as pump:
        fields = pump.request("CONFIG").fields
    if session.json:
        session.print_json(configview.as_json(fields))
    else:
        session.console.print(key_value_table("Configuration", configview.rows(fields)))
    return ExitCode.OK


def _set(args, session: Session) -> int:
    settings = _parse_settings(args.settings)
    require_a_way_to_confirm(args, session)
    with session.connect() as pump:
        before = pump.request("CONFIG").fields
        proposal = pump.request("CONFIG", "SET", **settings).fields
        applies = text(proposal, "applies", "CONFIG SET")
        keys = [k for k in configview.MECHANICS + configview.LIMITS if k in proposal]
        review = Review(
            "CONFIG",
            [
                (
                    k,
                    configview.format_value(k, before.get(k, "-")),
                    configview.format_value(k, proposal[k]),
                )
                for k in keys
            ],
            {
                "change": "CONFIG",
                "applies": applies,
                "changed": [k for k in settings if k in keys],
                "settings": configview.as_json(proposal) | {"reboot_pending": applies == "reboot"},
            },
        )
        settle(session, pump, proposal, review, args.yes)
        after = pump.request("CONFIG").fields
    if session.json:
        session.print_json({"review": review.data, "result": configview.as_json(after)})
        return ExitCode.OK
    when = "now in force" if applies == "now" else "stored: in force after the next restart"
    session.console.print(f"CONFIG confirmed, {when}.")
    session.console.print(key_value_table("Configuration now", configview.rows(after)))
    return ExitCode.OK


def run(args, session: Session) -> int:
    if args.action == "set":
        return _set(args, session)
    if args.settings:
        raise BadInput("E_ARG", "settings go with set: pumpctl config set KEY=VALUE ...")
    return _show(session)


def add_arguments(parser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("show", "set"),
        default="show",
        help="show the configuration (default), or set KEY=VALUE ...",
    )
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="settings for set")
    add_yes_option(parser)


COMMAND = Command(
    name="config",
    summary="show or set the device's mechanics and limits (engineering session)",
    examples="""\
Needs an engineering session, to read as well: `pumpctl login --role eng`
first, or --login eng in the same run. Values are in the device unit the key
names (_ng, _nl, _ms, _um, _days; concentrations in mcg/mL). Limits apply at
confirmation; mechanics (syringe, syringe_id_um, lead_um, steps_per_rev,
microsteps, capacity_nl) only while STOPPED, and take effect at the next restart
of the device. Review and confirmation as for therapy changes.

examples:
  pumpctl --login eng config
  pumpctl --login eng config --json
  pumpctl --login eng config set max_boluses_24h=2 bolus_lockout_ms=7200000
  pumpctl --login eng config set concentrations=500,2000 --yes
  pumpctl --login eng config set syringe=bd-10ml   # applies at the next restart
""",
    run=run,
    add_arguments=add_arguments,
)
