"""`mcpkit completion bash|zsh|fish`: print a shell completion script generated from the
command line's own parser, so every verb, option and choice completes as it is today."""

from __future__ import annotations

import argparse

from mcpkit.cli.commands import AddParser

__all__ = ["register"]

# mcpkit.cli.shell_completion.SHELLS, kept here so that `mcpkit --help` imports nothing more
_SHELLS = ("bash", "zsh", "fish")


def register(add_parser: AddParser) -> None:
    completion = add_parser(
        "completion",
        help="print a shell completion script for mcpkit",
        description="Print a completion script for bash, zsh or fish. docs/cli.md says where "
        "to put it.",
    )
    completion.set_defaults(handler=_main, verb_parser=completion)
    completion.add_argument("shell", metavar="SHELL", choices=_SHELLS, help=", ".join(_SHELLS))


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli.main import build_parser
    from mcpkit.cli.shell_completion import script

    print(script(args.shell, build_parser()), end="")
    return 0
