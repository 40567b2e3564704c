"""`mcpkit prompt TARGET NAME key=value ...`: get a prompt's messages (prompts/get)."""

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
        "prompt",
        help="get a prompt of a server, filled in with key=value arguments",
        description="Get the prompt NAME from TARGET with key=value arguments and print its "
        "messages. docs/cli.md has examples and the exit codes.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    from mcpkit.cli._options import add_common_options, add_pairs, add_target

    add_target(verb)
    # Optional for argparse, so that a command without it can say which prompts there are.
    verb.add_argument(
        "name", metavar="NAME", nargs="?", help="the prompt's name, as `mcpkit list` shows it"
    )
    add_common_options(verb)
    add_pairs(verb, "the prompt's arguments")


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mcpkit.cli._args import missing_name, named, prompt_arguments
    from mcpkit.cli._options import add_common_options, find_name, pairs_of
    from mcpkit.cli._verb_client import run_session

    find_name(parser, add_common_options, args, "name")
    pairs = pairs_of(parser, add_common_options, args)

    async def body(client: Client, ui: Terminal) -> int:
        prompts = await client.list_prompts()
        if args.name is None:
            usage = f"{parser.prog} TARGET NAME key=value ..."
            raise missing_name((p.name for p in prompts), "prompt", usage)
        prompt = named(prompts, args.name, "prompt")
        declared = [(a.name, bool(a.required)) for a in prompt.arguments or []]
        result = await client.get_prompt(prompt.name, prompt_arguments(declared, pairs))
        if ui.json_output:
            ui.json(result)
            return 0
        if result.description:
            ui.heading(result.description)
        for message in result.messages:
            ui.heading(f"[{message.role}]")
            ui.content([message.content])
        return 0

    return run_session(args, parser, body)
