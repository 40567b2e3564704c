"""The verbs of the `mcpkit` command, one module each.

Each module defines `register(add_parser)`, which adds its sub-parser with
`set_defaults(handler=..., verb_parser=<that sub-parser>)`; the handler `(args, parser) -> int`
gets its own parser (for `parser.error`) and returns the exit code.
Modules import only argparse at the top: `mcpkit --help` must not import the whole library.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["AddParser", "Handler", "VERBS"]

#: `add_subparsers().add_parser`, as the verb modules receive it.
AddParser = Callable[..., argparse.ArgumentParser]
#: What a verb runs: the parsed arguments and its own parser (for `parser.error`) -> exit code.
Handler = Callable[[argparse.Namespace, argparse.ArgumentParser], int]

#: The verbs in the order `mcpkit --help` lists them (module names under mcpkit.cli.commands).
VERBS: tuple[str, ...] = (
    "run",
    "list",
    "call",
    "read",
    "prompt",
    "inspect",
    "dev",
    "proxy",
    "generate",
    "install",
    "discover",
    "card",
    "registry",
    "completion",
)
