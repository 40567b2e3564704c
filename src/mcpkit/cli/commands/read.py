"""`mcpkit read TARGET URI`: a resource's contents (resources/read)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.client.client import Client

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "read",
        help="read a resource of a server",
        description="Read the resource URI from TARGET and print its contents. docs/cli.md "
        "has examples and the exit codes.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    from mcpkit.cli._options import add_common_options, add_target

    add_target(verb)
    add_common_options(verb)
    verb.add_argument("uri", metavar="URI", help="the resource's URI, as `mcpkit list` shows it")


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._verb_client import run_session

    async def body(client: Client, ui: Terminal) -> int:
        result = await client.read_resource(args.uri)
        if ui.json_output:
            ui.json(result)
        else:
            for contents in result.contents:
                ui.resource(contents)
        return 0

    return run_session(args, parser, body)
