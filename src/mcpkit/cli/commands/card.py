"""`mcpkit card URL`: a server's Server Card (experimental, SEP-2127), fetched from
`URL/server-card` without connecting, checked against the extension's schema, and printed."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mcpkit.cli.commands import AddParser

if TYPE_CHECKING:
    from mcpkit.cli._output import Terminal
    from mcpkit.types.server_card import ServerCard

__all__ = ["register"]


def register(add_parser: AddParser) -> None:
    verb = add_parser(
        "card",
        help="print a server's Server Card (experimental), without connecting",
        description="Fetch the Server Card of the server whose MCP endpoint is URL (from "
        "URL/server-card; a URL ending in /server-card is fetched as it is), check it against "
        "the extension's schema and print it. Exit 1 for an answer that is not a valid card, "
        "3 when none can be fetched. docs/discovery.md has the details.",
    )
    verb.set_defaults(handler=_main, verb_parser=verb)
    verb.add_argument("url", metavar="URL", help="the server's MCP endpoint, as in mcpkit list")
    verb.add_argument("--json", action="store_true", help="print the card's JSON, for scripts")
    verb.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the card (default 10)"
    )


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import asyncio

    from mcpkit.cli._output import Terminal
    from mcpkit.client.card_reader import ServerCardInvalid, fetch_server_card
    from mcpkit.errors import ConnectionFailed, InvalidUrl
    from mcpkit.transports.endpoint_url import check_endpoint_url

    ui = Terminal(json_output=args.json)
    try:
        check_endpoint_url(args.url)
    except InvalidUrl as exc:
        parser.error(f"URL: {exc}")
    try:
        card = asyncio.run(fetch_server_card(args.url, timeout=args.timeout))
    except ConnectionFailed as exc:
        ui.error(f"{exc}: check the URL, and that the server is running")
        return 3
    except ServerCardInvalid as exc:
        ui.error(str(exc))
        return 1
    _show(ui, card)
    return 0


def _show(ui: Terminal, card: ServerCard) -> None:
    if ui.json_output:
        ui.json(card)
        return
    ui.heading(f"{card.title or card.name} {card.version}")
    ui.text(f"name: {card.name}")
    ui.text(card.description)
    if card.website_url:
        ui.text(f"website: {card.website_url}")
    if card.repository:
        ui.text(f"repository: {card.repository.url}")
    rows = [
        (
            remote.type,
            remote.url,
            ", ".join(remote.supported_protocol_versions or ()),
            ", ".join(header.name for header in remote.headers or ()),
        )
        for remote in card.remotes or ()
    ]
    if rows:
        ui.table("Remotes", ("transport", "URL", "protocol versions", "headers"), rows)
