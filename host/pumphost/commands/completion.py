import sys

from pumphost import completion, configview
from pumphost.command import Command, Session
from pumphost.exitcodes import ExitCode


def run(args, session: Session) -> int:
    # Imported here: the parser is built from the command table this module is in.
    from pumphost.cli import build_parser

    settings = [f"{key}=" for key in configview.MECHANICS[:-1] + configview.LIMITS]
    script = completion.bash_script(build_parser({}), {"config": settings})
    sys.stdout.write(script if args.shell == "bash" else completion.zsh_script(script))
    return ExitCode.OK


def add_arguments(parser) -> None:
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete in")


COMMAND = Command(
    name="completion",
    summary="print a shell completion script (bash or zsh)",
    examples="""\
Generated from pumpctl's own options, so it always matches this version.
Opens no port.

examples:
  source <(pumpctl completion bash)                 # this shell only
  pumpctl completion bash > ~/.local/share/bash-completion/completions/pumpctl
  pumpctl completion zsh > ~/.zfunc/_pumpctl        # then: source it from ~/.zshrc
""",
    run=run,
    add_arguments=add_arguments,
)
