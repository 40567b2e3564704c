"""`mcpkit generate client|cli TARGET -o FILE`: Python source made from a server's tools (a
typed client module, or a standalone command-line script); `--check` says whether FILE is
still current, for CI."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client
    from mcpkit.codegen import Recorded

__all__ = ["register"]

#: `--check` found the file stale (or missing, or not a generated file).
EXIT_STALE = 1


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "generate",
        help="generate a typed client module or a command-line script from a server's tools",
        description="Generate Python source from TARGET's tools. docs/cli.md has examples.",
    )
    verb.set_defaults(verb_parser=verb)
    kinds = verb.add_subparsers(dest="kind", metavar="KIND", required=True)
    client = kinds.add_parser(
        "client", help="a module with one typed async method per tool, over an mcpkit Client"
    )
    client.add_argument(
        "--class-name", metavar="NAME", help="the class's name (default: from the server's name)"
    )
    script = kinds.add_parser(
        "cli", help="a standalone script with one subcommand per tool, options from its schema"
    )
    script.set_defaults(class_name=None)  # a script has no class
    from mcpkit.cli._options import add_common_options, add_target

    for kind in (client, script):
        kind.set_defaults(handler=_main, verb_parser=kind)
        add_target(kind)
        kind.add_argument(
            "-o", "--output", metavar="FILE", help="where to write it (default: standard output)"
        )
        kind.add_argument(
            "--check",
            action="store_true",
            help="write nothing: exit 1, saying what changed, when FILE is not what the server's "
            "tools make now",
        )
        add_common_options(kind, interactive=False)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._output import Terminal
    from mcpkit.cli._verb_client import run_session
    from mcpkit.codegen import is_class_name

    if args.class_name is not None and not is_class_name(args.class_name):
        parser.error(
            f"--class-name: {args.class_name!r} cannot name the class: give a Python "
            "identifier of ASCII letters, digits and underscores, not a keyword, builtin, "
            "dunder or name the module imports"
        )
    recorded: tuple[Recorded, str] | None = None
    if args.check:
        if args.output is None:
            parser.error("--check needs -o FILE, the file to check")
        recorded = _recorded(args, Terminal(json_output=False))  # before starting any server
        if recorded is None:
            return EXIT_STALE

    async def body(client: Client, ui: Terminal) -> int:
        import msgspec

        tools: list[dict[str, Any]] = []
        if client.server_capabilities.tools is not None:
            tools = [msgspec.to_builtins(tool) for tool in await client.list_tools()]
        if recorded is not None:
            return _compare(args, ui, recorded, client.server_info.name, tools)
        _write(args, ui, _source(args, client.server_info.name, tools))
        return 0

    return run_session(args, parser, body)


def _source(args: argparse.Namespace, server: str, tools: list[dict[str, Any]]) -> str:
    from mcpkit.codegen import cli_script, client_module

    if args.kind == "client":
        return client_module(tools, server, class_name=args.class_name)
    return cli_script(tools, server, args.target, written_to=args.output)


def _write(args: argparse.Namespace, ui: Terminal, source: str) -> None:
    import sys
    from pathlib import Path

    if args.output is None:  # the exact text, for a pipe or a redirection
        sys.stdout.write(source)
        sys.stdout.flush()
        return
    Path(args.output).write_text(source, encoding="utf-8")
    ui.note(f"wrote {args.output}")


def _recorded(args: argparse.Namespace, ui: Terminal) -> tuple[Recorded, str] | None:
    """The header and the text of the file `--check` was given, or None (said why) when it
    has no header."""
    from pathlib import Path

    from mcpkit.codegen import read_header

    try:
        text = Path(args.output).read_text(encoding="utf-8")
    except OSError as exc:
        ui.error(f"{args.output}: {exc.strerror or exc}")
        return None
    recorded = read_header(text)
    if recorded is None:
        ui.error(f"{args.output} was not made by `mcpkit generate`: it has no header of it")
        return None
    return recorded, text


def _compare(
    args: argparse.Namespace,
    ui: Terminal,
    recorded: tuple[Recorded, str],
    server: str,
    tools: list[dict[str, Any]],
) -> int:
    from mcpkit.codegen import differences

    header, text = recorded
    changes = differences(header, args.kind, server, tools)
    if not changes and text != _source(args, server, tools):
        # The same tools, another text: edited by hand, another --class-name or TARGET, or
        # made by another mcpkit.
        changes = ["its text is not what `mcpkit generate` makes from this server now"]
    if changes:
        ui.error(f"{args.output} is stale: " + "; ".join(changes))
        ui.note(f"regenerate it: mcpkit generate {args.kind} {args.target} -o {args.output}")
        return EXIT_STALE
    ui.note(f"{args.output} is current")
    return 0
