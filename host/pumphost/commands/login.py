from pumphost import auth
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.render import key_value_table


def add_role_and_user(parser) -> None:
    parser.add_argument(
        "--role",
        choices=auth.ROLES,
        default=None,
        help="tech (therapy, refills, alarms, clock) or eng (also configuration); "
        "default: role in the configuration file, else tech",
    )
    parser.add_argument(
        "--user",
        type=auth.check_user,
        default=None,
        help="name recorded in the device's event log "
        "(default: user in the configuration file, else your login name)",
    )


def run(args, session: Session) -> int:
    with session.connect() as pump:
        reply = auth.authenticate(
            pump, args.role or session.role, args.user or session.user, store=session.key_store()
        )
    idle_s = int(reply.get("idle_s", "0"))
    if session.json:
        session.print_json({"role": reply["role"], "user": reply["user"], "idle_s": idle_s})
        return ExitCode.OK
    rows = [
        ("role", reply["role"]),
        ("user", reply["user"]),
        ("ends after", f"{idle_s} s without a command that needs it, LOGOUT, or a restart"),
    ]
    session.console.print(key_value_table("Logged in", rows))
    return ExitCode.OK


COMMAND = Command(
    name="login",
    summary="log in to the device (challenge-response with your stored key)",
    examples="""\
The key comes from your key store (pumpctl provision wrote it); it never
crosses the wire. The session lives on the device, so the commands that follow,
in this or any later pumpctl run, use it until it ends: LOGOUT, inactivity
(10 min by default) or a device restart. Exit 1 (E_AUTH) if the device refuses,
2 if no usable key is stored.

examples:
  pumpctl login
  pumpctl login --role eng --user alice
  pumpctl login --json
""",
    run=run,
    add_arguments=add_role_and_user,
)
