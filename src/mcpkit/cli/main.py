"""Entry point of the `mcpkit` command line: builds the parser from the verb modules
(mcpkit.cli.commands) and runs the chosen verb's handler."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import Final, NoReturn

from mcpkit.cli.commands import VERBS, Handler
from mcpkit.errors import MissingExtra

__all__ = ["build_parser", "main"]


#: The one prefix of every error the command line prints.
ERROR_PREFIX = "error: "
# `mcpkit run: ` and the like, which a verb's fatal message may start with.
_VERB_PREFIX = re.compile(r"\Amcpkit(?: [a-z-]+)?: ")


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line and a pointer to --help (as git's
    and cargo's), not the whole usage block before the message; its verbs' parsers too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{ERROR_PREFIX}{message}\n{help_hint(self.prog)}\n")


def help_hint(prog: str) -> str:
    return f"(run '{prog} --help' for its usage)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mcpkit", description="The mcpkit command line.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    for name in VERBS:
        importlib.import_module(f"mcpkit.cli.commands.{name}").register(verbs.add_parser)
    return parser


#: Options whose value is a random secret, which may begin with "-" (a base64url key does one
#: time in 64, as `secrets.token_urlsafe` makes them): argparse would take it for an option
#: ("expected one argument"), so each is joined to its value first, as `--state-key=KEY`.
_SECRET_VALUED: Final = frozenset({"--state-key"})


def _secrets_joined(argv: list[str]) -> list[str]:
    """`argv` with each of `_SECRET_VALUED` joined to the value after it (up to `--`)."""
    joined: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--":
            return [*joined, arg, *rest]
        value = next(rest, None) if arg in _SECRET_VALUED else None
        joined.append(arg if value is None else f"{arg}={value}")
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(_secrets_joined(sys.argv[1:] if argv is None else argv))
    if unknown:  # refused by the verb's parser, so its pointer names `mcpkit VERB --help`
        owner: argparse.ArgumentParser = getattr(args, "verb_parser", parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
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
    try:
        return handler(args, verb_parser)
    except MissingExtra as exc:  # mcpkit's own missing extra, never the user's code
        sys.stderr.write(f"{ERROR_PREFIX}{exc}\n")
        return 1
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise
        # A verb's fatal message (`mcpkit run: cannot import ...`, also when another verb
        # serves through run's code), with the one prefix instead of its own.
        message = _VERB_PREFIX.sub("", exc.code, count=1)
        sys.stderr.write(f"{ERROR_PREFIX}{message}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
