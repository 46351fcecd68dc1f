"""What every pumpctl subcommand is made of, and what it gets to work with.

A subcommand is one small function registered in commands/__init__.py; the CLI
builds its parser, help and error handling from the table, so adding a verb never
touches the plumbing.
"""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console

from pumphost.client import PumpClient
from pumphost.ports import resolve_port
from pumphost.wire import DeviceLine


@dataclass
class Session:
    """The global options of one pumpctl run, and the way to reach the device."""

    port: str
    timeout: float
    json: bool
    console: Console = field(default_factory=Console)

    def connect(self) -> PumpClient:
        return PumpClient(
            resolve_port(self.port), timeout=self.timeout, on_unsolicited=self._show_unsolicited
        )

    def print_json(self, data: object) -> None:
        # Plain print: rich would highlight and wrap, and scripts parse this.
        print(json.dumps(data, indent=2))

    def _show_unsolicited(self, line: DeviceLine) -> None:
        # stderr, so an alarm that arrives mid-command is seen without spoiling --json.
        print(f"pumpctl: device says: {line.text}", file=sys.stderr)


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    examples: str
    run: Callable[[argparse.Namespace, Session], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None
