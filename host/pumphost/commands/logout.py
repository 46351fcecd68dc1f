from pumphost import auth
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode


def run(args, session: Session) -> int:
    with session.connect() as pump:
        ended = auth.logout(pump)
    if session.json:
        session.print_json({"ended": None if ended == "-" else ended})
    elif ended == "-":
        session.console.print("No session was open.")
    else:
        session.console.print(f"Logged out ({ended} session ended).")
    return ExitCode.OK


COMMAND = Command(
    name="logout",
    summary="end the device's session now",
    examples="""\
A pending unconfirmed change is dropped with the session.

examples:
  pumpctl logout
  pumpctl logout --json        # {"ended": "tech"} or {"ended": null}
""",
    run=run,
)
