"""`mcpkit call TARGET TOOL key=value ...`: call a tool, its arguments read against the tool's
input schema first, with progress, logs and the server's questions shown on the terminal."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "call",
        help="call a tool of a server",
        description="Call TOOL on TARGET with key=value arguments, each read as the type the "
        "tool's input schema gives it (arrays and objects as JSON text). docs/cli.md has "
        "examples and the exit codes.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    from mcpkit.cli._options import add_pairs, add_target

    add_target(verb)
    # Optional for argparse, so that a command without it can say which tools there are.
    verb.add_argument(
        "tool", metavar="TOOL", nargs="?", help="the tool's name, as `mcpkit list` shows it"
    )
    _options(verb)
    add_pairs(verb, "the tool's arguments")


def _options(verb: argparse.ArgumentParser) -> None:
    from mcpkit.cli._options import add_common_options

    add_common_options(verb)
    verb.add_argument(
        "--args",
        metavar="JSON",
        help="the whole arguments object as JSON ('{\"n\": 3}'); key=value pairs are added to it",
    )
    verb.add_argument(
        "--save-dir",
        type=_directory,
        metavar="DIR",
        help="write the result's images and audio into DIR (content-N.png, ...)",
    )


def _directory(text: str) -> Any:
    from pathlib import Path

    return Path(text)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._args import missing_name, named, tool_arguments
    from mcpkit.cli._options import find_name, pairs_of
    from mcpkit.cli._verb_client import EXIT_FAILED, run_session

    find_name(parser, _options, args, "tool")
    pairs = pairs_of(parser, _options, args)

    async def body(client: Client, ui: Terminal) -> int:
        tools = await client.list_tools()
        if args.tool is None:
            usage = f"{parser.prog} TARGET TOOL key=value ..."
            raise missing_name((t.name for t in tools), "tool", usage)
        tool = named(tools, args.tool, "tool")
        arguments = tool_arguments(tool.input_schema, pairs, args.args)
        # a tool that only runs as a task (SEP-1686) is called as one; the result is the same
        as_task = tool.execution is not None and tool.execution.task_support == "required"
        result = await client.call_tool(
            tool.name, arguments, progress=ui.progress, task=as_task, timeout=_wait(args, as_task)
        )
        ui.stop_progress()
        if ui.json_output:
            ui.json(result)
        else:
            _show(ui, result)
        return EXIT_FAILED if result.is_error else 0

    return run_session(args, parser, body)


def _wait(args: argparse.Namespace, as_task: bool) -> float | None:
    """A plain call's --timeout is per answer (the client's default); a task's bounds the
    whole wait for its end, so it waits as long as the task runs unless given."""
    if as_task:
        return None
    return args.timeout or None


def _show(ui: Terminal, result: Any) -> None:
    if result.is_error:
        ui.error(f"the tool reported an error: {result.text or '(no text)'}")
        return
    ui.content(result.content)
    if result.structured_content is not None and not result.content:
        from mcpkit.cli._output import as_json

        ui.text(as_json(result.structured_content))
