"""The options every verb that talks to a server shares (TARGET, --json, --header, --timeout,
--oauth, --protocol, --log-level; --no-input, --root and --state-key where a handler runs).
Only argparse is imported: `mcpkit --help` builds every verb's parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = [
    "add_common_options",
    "add_pairs",
    "add_target",
    "add_trust_project",
    "find_name",
    "pairs_of",
    "split_trailing_options",
]

_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


def add_target(parser: argparse.ArgumentParser) -> None:
    """The TARGET positional argument, and `--trust-project` for a `HOST:NAME` one."""
    parser.add_argument(
        "target",
        metavar="TARGET",
        help="a server file (server.py[:object], server.js), a module, a command in quotes "
        '("npx -y some-server"), a URL (http://127.0.0.1:8000/mcp) or a server a host '
        "configured (cursor:github; see mcpkit discover)",
    )
    add_trust_project(parser)


def add_trust_project(parser: argparse.ArgumentParser) -> None:
    """The `--trust-project` flag, beside a TARGET that may be `HOST:NAME`."""
    parser.add_argument(
        "--trust-project",
        action="store_true",
        help="run the command of a HOST:NAME server that comes from the current folder's "
        "files (.mcp.json, .cursor/, .vscode/...) without asking (default: ask at a "
        "terminal, refuse otherwise)",
    )


def add_common_options(parser: argparse.ArgumentParser, *, interactive: bool = True) -> None:
    """The options every verb that talks to a server takes."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the exact result object as JSON on stdout, and nothing else there",
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an HTTP header for URL targets (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="how long to wait for each answer (default 60; progress restarts it; 0: forever)",
    )
    parser.add_argument(
        "--oauth",
        choices=("browser", "headless", "off"),
        default="browser",
        help="how to authorize when a URL answers 401 (default: browser)",
    )
    parser.add_argument(
        "--protocol",
        choices=("auto", "2026-07-28", "2025-11-25"),
        default="auto",
        help="the protocol revision to speak: auto (default: 2026-07-28 where the server "
        "offers it, found with server/discover, else the 2025-11-25 handshake), or one pinned",
    )
    parser.add_argument(
        "--log-level",
        choices=_LEVELS,
        help="ask the server to send log messages of this level and above (shown on stderr)",
    )
    if not interactive:
        return
    parser.add_argument(
        "--no-input",
        action="store_true",
        help="never ask: sampling requests are refused and elicitations declined",
    )
    parser.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="PATH",
        help="a directory offered to the server as a root (repeatable)",
    )
    parser.add_argument(
        "--state-key",
        type=_state_key,
        metavar="KEY",
        help='sent as _meta["io.mcpkit/stateKey"]: the caller\'s state on an mcpkit server '
        "when there is no session or token (32 to 256 random characters; keep it secret)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("give 0 (wait forever) or more seconds")
    return value


def _state_key(text: str) -> str:
    from mcpkit.protocol.meta_keys import check_state_key

    wrong = check_state_key(text)
    if wrong is not None:
        raise argparse.ArgumentTypeError(wrong)
    return text


def add_pairs(parser: argparse.ArgumentParser, help: str) -> None:
    """The trailing `key=value` words; options may come among them (`call T add a=1 --json`).
    argparse cannot mix a `*` positional with later options, so the words are taken whole
    here and `split_trailing_options` parses the options among them."""
    parser.add_argument("pairs", nargs=argparse.REMAINDER, metavar="key=value ...", help=help)


def split_trailing_options(
    parser: argparse.ArgumentParser,
    configure: Callable[[argparse.ArgumentParser], None],
    args: argparse.Namespace,
) -> None:
    """Parse the options among `args.pairs` into `args` (a parser made by `configure`, which
    adds the verb's options, reads them), leaving only the key=value words in `args.pairs`."""
    if not any(word.startswith("-") for word in args.pairs):
        return
    trailing = type(parser)(prog=parser.prog, usage=parser.format_usage()[7:])
    configure(trailing)
    trailing.add_argument("rest", nargs="*")
    words = list(args.pairs)
    delattr(args, "pairs")
    parsed = trailing.parse_intermixed_args(words, namespace=args)
    parsed.pairs = parsed.rest


def find_name(
    parser: argparse.ArgumentParser,
    configure: Callable[[argparse.ArgumentParser], None],
    args: argparse.Namespace,
    dest: str,
) -> None:
    """Set `args.<dest>` (an optional positional: the tool or prompt name) to the first word
    that is neither an option nor a key=value pair, or None when there is none. argparse
    leaves it empty when options come before it (`call T --json add a=1`), and takes `a=1`
    for it when the name is left out; a name has no `=` (spec server/tools, "Tool names")."""
    split_trailing_options(parser, configure, args)
    words: list[str] = list(args.pairs)
    name: str | None = getattr(args, dest)
    if name is not None and "=" in name:
        words.insert(0, name)
        name = None
    if name is None and words and "=" not in words[0]:
        name = words.pop(0)
    setattr(args, dest, name)
    args.pairs = words


def pairs_of(
    parser: argparse.ArgumentParser,
    configure: Callable[[argparse.ArgumentParser], None],
    args: argparse.Namespace,
) -> list[tuple[str, str]]:
    """The verb's key=value words as pairs, after the options among them are read into `args`;
    a malformed word is a usage error (exit 2)."""
    from mcpkit.cli._args import UsageError, split_pairs

    split_trailing_options(parser, configure, args)
    try:
        return split_pairs(args.pairs)
    except UsageError as exc:
        parser.error(str(exc))
