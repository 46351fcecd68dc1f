from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.render import key_value_table


def run(args, session: Session) -> int:
    with session.connect() as pump:
        identity = pump.identity
        port = pump.port
    if session.json:
        session.print_json({"port": port, **identity.as_json()})
        return ExitCode.OK
    rows = [
        ("port", port),
        ("protocol", identity.protocol),
        ("firmware", identity.firmware),
        ("board", identity.board),
        ("capabilities", ", ".join(identity.caps) or "-"),
    ]
    session.console.print(key_value_table("Device", rows))
    return ExitCode.OK


COMMAND = Command(
    name="identify",
    summary="show the device's protocol, firmware, board and capabilities",
    examples="""\
examples:
  pumpctl identify                       # the running simulator
  pumpctl --port /dev/ttyACM0 identify   # a board
  pumpctl --port auto identify --json    # the one board plugged in, as JSON
""",
    run=run,
)
