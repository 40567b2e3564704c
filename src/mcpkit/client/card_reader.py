"""Reading a server's Server Card (the experimental SEP-2127 extension) before connecting:
`fetch_server_card` GETs it with the card's media type, and checks it against the
extension's JSON Schema before handing it back as a `ServerCard`.

A card is advice, not authority (the extension's docs/discovery.md, "Consistency with Runtime
Behavior"): what the live connection says wins, and nothing about access is decided on it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import msgspec

from mcpkit._extras import needs_extra
from mcpkit.errors import ConnectionFailed, McpkitError
from mcpkit.types.server_card import CARD_MEDIA_TYPE, CARD_SUFFIX, ServerCard, card_problems

if TYPE_CHECKING:
    import httpx

__all__ = ["ServerCardInvalid", "card_url", "fetch_server_card"]

#: The most a card may weigh: cards are a few kilobytes; past this is not a card.
MAX_CARD_BYTES: Final = 1 << 20


class ServerCardInvalid(McpkitError):
    """What a server answered for its card is not a Server Card: an error status, another
    media type, or a document the extension's schema refuses. The message says which."""


def card_url(url: str) -> str:
    """Where the card of the server at `url` is: `url` itself when it already ends with
    `/server-card`, else the Streamable HTTP endpoint's reserved location beside it."""
    path = urlsplit(url).path.rstrip("/")
    return url if path.endswith(CARD_SUFFIX) else url.rstrip("/") + CARD_SUFFIX


async def fetch_server_card(
    url: str, *, http_client: httpx.AsyncClient | None = None, timeout: float = 10.0
) -> ServerCard:
    """The Server Card of the server whose Streamable HTTP endpoint (or card) is at `url`,
    checked against the extension's schema. No credentials are sent: a card is public. The
    answer is read as it arrives, at most `MAX_CARD_BYTES` of it and uncompressed, within
    `timeout` seconds in all; redirects are not followed. Raises `ServerCardInvalid` for an
    answer that is not a card (or is over the bound, or compressed), `ConnectionFailed` when
    the server cannot be reached."""
    with needs_extra("http", "fetch_server_card()"):
        import httpx

    from mcpkit.auth._fetch import FetchFailed, fetch_bounded

    where = card_url(url)
    request = httpx.Request("GET", where, headers={"accept": CARD_MEDIA_TYPE})
    try:
        if http_client is None:
            async with httpx.AsyncClient() as own:
                answer = await fetch_bounded(own, request, limit=MAX_CARD_BYTES, timeout=timeout)
        else:
            answer = await fetch_bounded(
                http_client, request, limit=MAX_CARD_BYTES, timeout=timeout
            )
    except FetchFailed as exc:
        if exc.refused:
            raise ServerCardInvalid(f"the Server Card at {where}: {exc}") from None
        raise ConnectionFailed(f"cannot fetch the Server Card at {where}: {exc}") from None
    return _read(where, answer)


def _read(where: str, answer: httpx.Response) -> ServerCard:
    if answer.status_code != 200:
        raise ServerCardInvalid(
            f"GET {where} answered {answer.status_code}, not a Server Card: the server may "
            "publish none (Server.publish_card), or the URL is not its MCP endpoint"
        )
    media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (CARD_MEDIA_TYPE, "application/json"):
        raise ServerCardInvalid(
            f"GET {where} answered {media or 'no media type'}, not {CARD_MEDIA_TYPE}"
        )
    try:
        document = json.loads(answer.content)
    except ValueError as exc:
        raise ServerCardInvalid(f"the Server Card at {where} is not JSON: {exc}") from None
    problems = card_problems(document)
    if problems:
        raise ServerCardInvalid(
            f"the Server Card at {where} breaks its schema: " + "; ".join(problems)
        )
    return msgspec.convert(document, ServerCard)
