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

import msgspec

from mcpkit.protocol.stateless import SUBSCRIPTION_ID_KEY
from mcpkit.stores.broker import Change
from mcpkit.types import RequestId, ServerCapabilities
from mcpkit.types._gen_2026_07_28 import SubscriptionFilter, SubscriptionsListenRequestParams

__all__ = ["ListenParams", "Listen", "Listeners", "agreed_filter"]

_LIST_CHANGES: Final = {
    "toolsListChanged": ("notifications/tools/list_changed", "tools"),
    "promptsListChanged": ("notifications/prompts/list_changed", "prompts"),
    "resourcesListChanged": ("notifications/resources/list_changed", "resources"),
}
_UPDATED: Final = "notifications/resources/updated"
#: The most resources one listen may follow (`resourceSubscriptions`), and tasks (`taskIds`).
MAX_RESOURCE_SUBSCRIPTIONS: Final = 1000
#: The tasks extension's status notification (SEP-2663, "Task Status Notifications").
TASK_STATUS: Final = "notifications/tasks"


class _Filter(SubscriptionFilter, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """The filter with the tasks extension's field: the tasks whose status changes to send."""

    task_ids: list[str] | None = msgspec.field(default=None, name="taskIds")


class ListenParams(
    SubscriptionsListenRequestParams, kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    """subscriptions/listen params, as the server decodes them (extensions' filter fields)."""

    notifications: _Filter  # pyright: ignore[reportIncompatibleVariableOverride]  (a subclass)


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

    __slots__ = (
        "_pending",
        "_tasks",
        "_wake",
        "closed",
        "methods",
        "request_id",
        "task_ids",
        "uris",
    )

    def __init__(self, request_id: RequestId, agreed: dict[str, Any]) -> None:
        self.request_id = request_id
        self.methods = frozenset(m for k, (m, _) in _LIST_CHANGES.items() if agreed.get(k))
        self.uris: frozenset[str] = frozenset(agreed.get("resourceSubscriptions") or ())
        self.task_ids: frozenset[str] = frozenset(agreed.get("taskIds") or ())
        self._pending: dict[Change, None] = {}  # (ordered, and a change waits once)
        self._tasks: dict[str, dict[str, Any]] = {}  # the latest state of each task, once
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

    def offer_task(self, task_id: str, task: dict[str, Any]) -> None:
        """Queue a task's new state (a DetailedTask) when this listen follows the task; a
        state still waiting is replaced by the newer one."""
        if task_id in self.task_ids:
            self._tasks.pop(task_id, None)
            self._tasks[task_id] = task
            self._wake.set()

    def close(self) -> None:
        """The server stops: `next` returns None once what waits has gone."""
        self.closed = True
        self._wake.set()

    async def next(self) -> dict[str, Any] | None:
        """The next notification to send (method and params), or None once closed."""
        while not self._pending and not self._tasks:
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        if not self._pending:
            task_id = next(iter(self._tasks))
            task = self._tasks.pop(task_id)
            return {
                "method": TASK_STATUS,
                "params": {**task, "_meta": {SUBSCRIPTION_ID_KEY: self.request_id}},
            }
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

    def followed_uris(self) -> set[str]:
        """The resources some open listen follows (`resourceSubscriptions`)."""
        return {uri for listen in self._open for uri in listen.uris}

    def follows(self, task_id: str) -> bool:
        """Whether some open listen follows the task (`taskIds`)."""
        return any(task_id in listen.task_ids for listen in self._open)

    def deliver_task(self, task_id: str, task: dict[str, Any]) -> None:
        for listen in self._open:
            listen.offer_task(task_id, task)

    def close_all(self) -> None:
        for listen in list(self._open):
            listen.close()
