"""`subscriptions/listen` (spec: basic/patterns/subscriptions, 2026-07-28): a request whose answer
is a stream of the change notifications its client opted in to.

It replaces the 2025 era's GET stream and `resources/subscribe`, and both are fed by the same
publisher: a change published to the server's broker reaches every 2025 session that may hear
of it (`SessionBroadcasts._deliver`) and every open listen of this process (`Listeners`). A
listen first acknowledges what it will honour (`notifications/subscriptions/acknowledged`,
the subset of the client's filter the server can announce), then sends each matching change
with the listen's id in `_meta` (`io.modelcontextprotocol/subscriptionId`), until the client
cancels it (closes its HTTP stream, or sends notifications/cancelled on stdio) or the server
stops (then it answers the request: a graceful end).

What waits to be sent is bounded by what a listen can match: a change already waiting is not
queued twice, so a client that reads slowly costs one entry per list and subscribed URI.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from mcpkit.protocol.stateless import SUBSCRIPTION_ID_KEY
from mcpkit.stores.broker import Change
from mcpkit.types import RequestId, ServerCapabilities

__all__ = ["Listen", "Listeners", "agreed_filter"]

_LIST_CHANGES: Final = {
    "toolsListChanged": ("notifications/tools/list_changed", "tools"),
    "promptsListChanged": ("notifications/prompts/list_changed", "prompts"),
    "resourcesListChanged": ("notifications/resources/list_changed", "resources"),
}
_UPDATED: Final = "notifications/resources/updated"
#: The most resources one listen may follow (`resourceSubscriptions`).
MAX_RESOURCE_SUBSCRIPTIONS: Final = 1000


def agreed_filter(requested: dict[str, Any], capabilities: ServerCapabilities) -> dict[str, Any]:
    """The part of a client's filter this server honours: list changes of the features it
    declares `listChanged` for, and resource updates where it declares `subscribe`."""
    agreed: dict[str, Any] = {}
    for key, (_, feature) in _LIST_CHANGES.items():
        declared = getattr(capabilities, feature, None)
        if requested.get(key) is True and getattr(declared, "list_changed", None):
            agreed[key] = True
    uris = requested.get("resourceSubscriptions")
    resources = capabilities.resources
    if uris and resources is not None and resources.subscribe:
        agreed["resourceSubscriptions"] = [u for u in uris if isinstance(u, str)][
            :MAX_RESOURCE_SUBSCRIPTIONS
        ]
    return agreed


class Listen:
    """One open `subscriptions/listen`: the changes it matches, waiting to be sent in order."""

    __slots__ = ("_pending", "_wake", "closed", "methods", "request_id", "uris")

    def __init__(self, request_id: RequestId, agreed: dict[str, Any]) -> None:
        self.request_id = request_id
        self.methods = frozenset(m for k, (m, _) in _LIST_CHANGES.items() if agreed.get(k))
        self.uris: frozenset[str] = frozenset(agreed.get("resourceSubscriptions") or ())
        self._pending: dict[Change, None] = {}  # (ordered, and a change waits once)
        self._wake = asyncio.Event()
        self.closed = False

    def offer(self, change: Change) -> None:
        """Queue `change` when this listen opted in to it."""
        if change.method == _UPDATED:
            uri = change.uri
            if uri is None or uri not in self.uris:
                return
        elif change.method not in self.methods:
            return
        self._pending[change] = None
        self._wake.set()

    def close(self) -> None:
        """The server stops: `next` returns None once what waits has gone."""
        self.closed = True
        self._wake.set()

    async def next(self) -> dict[str, Any] | None:
        """The next notification to send (method and params), or None once closed."""
        while not self._pending:
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        change = next(iter(self._pending))
        del self._pending[change]
        params: dict[str, Any] = {"_meta": {SUBSCRIPTION_ID_KEY: self.request_id}}
        if change.uri is not None:
            params["uri"] = change.uri
        return {"method": change.method, "params": params}


class Listeners:
    """The open listens of one server in this process."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: set[Listen] = set()

    def __len__(self) -> int:
        return len(self._open)

    def add(self, listen: Listen) -> None:
        self._open.add(listen)

    def discard(self, listen: Listen) -> None:
        self._open.discard(listen)

    def deliver(self, change: Change) -> None:
        for listen in self._open:
            listen.offer(change)

    def close_all(self) -> None:
        for listen in list(self._open):
            listen.close()
