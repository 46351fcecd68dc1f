"""Two-phase changes, host side: propose, review side by side, then confirm or cancel.

The device answers a proposal with a token and the complete resulting settings
and changes nothing until `CONFIRM token=...` (docs/protocol.md). pumpctl shows
what is now next to what will be, with units, and confirms only on an explicit
yes (or --yes). A no, or Ctrl-C, sends CANCEL; even if that is lost, an
unconfirmed proposal lapses on the device after 60 s without effect.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from rich.table import Table

from pumphost import prompt
from pumphost.client import PumpClient
from pumphost.command import Session
from pumphost.errors import BadInput, Declined, Interrupted, PumpHostError
from pumphost.exitcodes import ExitCode
from pumphost.fields import text
from pumphost.status import PumpStatus
from pumphost.statusview import status_table

CONFIRM_QUESTION = "Confirm? [y/N] "


@dataclass(frozen=True)
class Review:
    """A proposal as the technician judges it."""

    change: str  # what the device calls it: PROGRAM, BOLUS, ...
    rows: list[tuple[str, str, str]]  # (what, current, after), each figure with its unit
    data: dict  # the proposal in technician units, for --json


# (status before, proposal reply fields) -> Review
Describe = Callable[[PumpStatus, dict[str, str]], Review]


def add_yes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm without asking, after showing the review (scripts; required with --json)",
    )


def require_a_way_to_confirm(args: argparse.Namespace, session: Session) -> None:
    """Refuse, before anything is sent, a run that could neither ask nor confirm."""
    if args.yes:
        return
    if session.json:
        raise BadInput("E_ARG", "--json never prompts: add --yes to confirm the change")
    if not prompt.can_ask(session.json):
        raise BadInput("E_ARG", "no terminal to ask for confirmation on: add --yes")


def review_table(review: Review) -> Table:
    table = Table(title=f"Review: {review.change}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("current")
    table.add_column("after")
    for what, current, after in review.rows:
        table.add_row(what, current, after, style=None if current == after else "yellow")
    return table


def cancel(pump: PumpClient) -> str:
    """Drop the pending proposal; returns what the technician should be told."""
    try:
        pump.request("CANCEL")
    except PumpHostError as error:
        return (
            f"CANCEL failed ({error}); the unconfirmed change lapses on the device "
            "within 60 s and nothing was applied"
        )
    return "CANCEL sent; nothing changed on the device"


def settle(
    session: Session, pump: PumpClient, proposal: dict[str, str], review: Review, yes: bool
) -> PumpStatus:
    """Show the review, get the technician's answer, then CONFIRM or CANCEL."""
    token = text(proposal, "token", review.change)
    if not session.json:
        session.console.print(review_table(review))
        session.console.print(
            f"Nothing changes on the pump until confirmed (token {token}, "
            f"valid {proposal.get('expires_s', '60')} s).",
            highlight=False,
        )
    if not yes:
        try:
            agreed = prompt.ask_yes(CONFIRM_QUESTION)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {cancel(pump)}") from None
        if not agreed:
            raise Declined(f"not confirmed: {cancel(pump)}")
    return PumpStatus.from_fields(pump.request("CONFIRM", token=token).fields)


def show_result(session: Session, review: Review, result: PumpStatus) -> None:
    if session.json:
        session.print_json({"review": review.data, "result": result.as_json()})
        return
    session.console.print(f"{review.change} confirmed.")
    session.console.print(status_table(result, "Pump status now"))


def run_change(
    args: argparse.Namespace,
    session: Session,
    verb: str,
    words: tuple[str, ...],
    wire_args: dict[str, str],
    describe: Describe,
) -> int:
    """The whole two-phase exchange for one command whose input is already checked."""
    require_a_way_to_confirm(args, session)
    with session.connect() as pump:
        before = pump.status()
        proposal = pump.request(verb, *words, **wire_args).fields
        review = describe(before, proposal)
        result = settle(session, pump, proposal, review, args.yes)
    show_result(session, review, result)
    return ExitCode.OK
