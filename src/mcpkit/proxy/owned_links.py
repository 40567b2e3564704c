"""What an owner of upstream links (the pool of 2026-07-28 requests, a mounted proxy's links of
its parent's sessions) uses around a `Link`'s life: `open_link` opens one, with the upstream's
log messages asked for, and `Closings` keeps the links it closes in tasks of their own, so its
own close waits for them. Apart from `mcpkit.proxy.upstream_link` because the link itself needs
neither: only its owners do."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.proxy.upstream_link import Asker, Link, LinkOwner, LinkSettings
from mcpkit.types import InitializeRequestParams, InitializeResult

__all__ = ["Closings", "open_link"]


class Closings:
    """The links an owner closes outside its own close (in a task of their own, say), so
    that its close waits for them too: a link is among them from `close(link)` until its
    close ends, even when the task awaiting that close is cancelled before its first step."""

    __slots__ = ("_links",)

    def __init__(self) -> None:
        self._links: set[Link] = set()

    def close(self, link: Link) -> Coroutine[Any, Any, None]:
        """`link.aclose()`, `link` counted among the closings from now on."""
        self._links.add(link)
        return self._close(link)

    async def _close(self, link: Link) -> None:
        try:
            await link.aclose()
        finally:
            self._links.discard(link)

    def take(self) -> list[Link]:
        """The links closing now (their `aclose` waits for their close: `Link.aclose`),
        forgotten here."""
        links = list(self._links)
        self._links.clear()
        return links


async def open_link(
    settings: LinkSettings, owner: LinkOwner, holder: Asker | None, hello: InitializeRequestParams
) -> tuple[Link, InitializeResult]:
    """A new upstream session of `owner`'s, held by `holder` (if any), opened as `hello`, and the
    upstream's answer. Every log message of the upstream is asked for: the proxy passes on
    what each client's own level lets through. McpError when it cannot be opened (closed
    again first)."""
    link = Link(settings, owner)
    link.holder = holder
    try:
        upstream = await link.open(hello)
        if upstream.capabilities.logging is not None:
            await link.send("logging/setLevel", {"level": "debug"})
    except BaseException as exc:
        await link.aclose()
        if isinstance(exc, McpError) or not isinstance(exc, Exception):
            raise
        raise McpError(codes.INTERNAL_ERROR, f"could not reach the upstream server: {exc}") from exc
    return link, upstream
