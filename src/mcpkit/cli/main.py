"""Entry point of the `mcpkit` command line: builds the parser from the verb modules
(mcpkit.cli.commands) and runs the chosen verb's handler."""

from __future__ import annotations

import argparse
import importlib
import sys

from mcpkit.cli.commands import VERBS, Handler

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpkit", description="The mcpkit command line.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for name in VERBS:
        importlib.import_module(f"mcpkit.cli.commands.{name}").register(verbs.add_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from mcpkit import __version__

        print(f"mcpkit {__version__}")
        return 0
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    # the verb's own parser, for its `parser.error(...)` (usage: mcpkit VERB ...)
    verb_parser: argparse.ArgumentParser = args.verb_parser
    return handler(args, verb_parser)


if __name__ == "__main__":
    sys.exit(main())
