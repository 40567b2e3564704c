"""Entry point of the `mcpkit` command line."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpkit", description="The mcpkit command line.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND")
    run = verbs.add_parser("run", help="serve a Server from a Python file over stdio")
    run.add_argument(
        "target",
        metavar="FILE.py[:object] | MODULE[:object]",
        help="a Python file or an importable module, and optionally the name "
        "of its Server (default: `server`, `mcp` or `app`)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from mcpkit import __version__

        print(f"mcpkit {__version__}")
        return 0
    if args.verb == "run":
        from mcpkit.cli.run import run

        run(args.target)
        return 0
    _parser().print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
