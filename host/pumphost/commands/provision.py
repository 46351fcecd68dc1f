from pumphost import auth
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode
from pumphost.render import key_value_table


def run(args, session: Session) -> int:
    with session.connect() as pump:
        device, path = auth.provision(
            pump, args.role, store=session.key_store(), replace=args.rekey
        )
    if session.json:
        session.print_json({"device_id": device, "role": args.role, "key_file": str(path)})
        return ExitCode.OK
    rows = [("device id", device), ("role", args.role), ("key file", str(path))]
    session.console.print(key_value_table("Key provisioned", rows))
    return ExitCode.OK


def add_arguments(parser) -> None:
    parser.add_argument("--role", choices=auth.ROLES, required=True, help="whose key: tech or eng")
    parser.add_argument(
        "--rekey", action="store_true", help="replace the key this host already holds for the role"
    )


COMMAND = Command(
    name="provision",
    summary="give the device a new random key for a role and keep it in your key store",
    examples="""\
Works only while the device was booted with its provisioning gate held (a
jumper on a board, see docs/hardware.md; the rig's provision_gate switch on the
simulator); otherwise the device refuses (exit 1, E_AUTH) and no key is kept.
The key is written to <config>/pumpctl/keys/<device-id>.<role>.key, owner-only
(0600, folder 0700), and never printed. Release the gate and restart the
device afterwards.

examples:
  pumpctl provision --role tech
  pumpctl provision --role eng --rekey
""",
    run=run,
    add_arguments=add_arguments,
)
