"""Questions to the technician at a terminal.

pumpctl asks only when a person can answer: stdin is a terminal and the output
is not --json (a prompt would spoil the JSON a script parses).
"""

import sys
from collections.abc import Callable
from typing import TypeVar

YES = ("y", "yes")

T = TypeVar("T")


def can_ask(json_output: bool) -> bool:
    return not json_output and sys.stdin.isatty()


def ask(question: str) -> str:
    """The answer, stripped; end of input counts as an empty answer (no)."""
    try:
        return input(question).strip()
    except EOFError:
        return ""


def ask_yes(question: str) -> bool:
    return ask(question).lower() in YES


def ask_quantity(question: str, parse: Callable[[str], T]) -> T:
    """Parsed with the same rules as the flags: a bad entry raises BadInput."""
    return parse(ask(question))
