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
from pathlib import Path

from rich.console import Console

from pumphost import auth
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
    login: str | None = None  # role to log in as on connecting (--login), or None
    user: str | None = None  # name the device logs for that login (None: login name)
    keys: Path | None = None  # key store folder (None: the default one)
    role: str = "tech"  # default role of `pumpctl login` (configuration file)

    def key_store(self) -> auth.KeyStore:
        return auth.KeyStore(self.keys)

    def connect(self, on_unsolicited: Callable[[DeviceLine], None] | None = None) -> PumpClient:
        """Open the port (re-resolving sim/auto each time) and log in if --login asked.

        The device keeps one session for whoever is on the line, so logging in on
        every connection of this run is harmless and survives a device restart."""
        client = PumpClient(
            resolve_port(self.port),
            timeout=self.timeout,
            on_unsolicited=on_unsolicited or self._show_unsolicited,
        )
        if self.login is not None:
            try:
                auth.authenticate(client, self.login, self.user, store=self.key_store())
            except BaseException:
                client.close()
                raise
        return client

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
