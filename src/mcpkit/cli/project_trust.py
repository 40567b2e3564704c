"""Whether a server from a project's own files (a clone's `.mcp.json`, `.cursor/mcp.json`,
`.vscode/mcp.json`...) may start its command: `--trust-project`, or a y/N question when
stdin is a terminal; nothing is remembered. The hosts ask the same before running a
project's servers (docs/cli.md, "Servers a project configures")."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mcpkit.cli._output import clean

if TYPE_CHECKING:
    from mcpkit.client.host_configs.configured import FoundServer, TrustProject

__all__ = ["trust_of", "warn"]


def trust_of(args: argparse.Namespace) -> TrustProject:
    """What decides for this command line: its flag, else the person at the terminal."""
    if getattr(args, "trust_project", False):
        return _trusted
    return _ask


def warn(message: str) -> None:
    """A warning on stderr, one line, where `error:` lines go."""
    sys.stderr.write(f"warning: {clean(message)}\n")
    sys.stderr.flush()


def _trusted(server: FoundServer, command: str) -> bool:
    return True


def _ask(server: FoundServer, command: str) -> bool:
    if not sys.stdin.isatty():  # no one to ask: refused (the error names --trust-project)
        return False
    said = clean(f"{server.target} comes from {server.path}, a file of this folder, not yours")
    sys.stderr.write(f"{said}; it runs:\n  {clean(command)}\nRun it? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")
