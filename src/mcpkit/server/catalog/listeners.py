"""`subscriptions/listen` (spec: basic/patterns/subscriptions, 2026-07-28): a request whose answer
is a stream of the change notifications its client opted in to.

It replaces the 2025 era's GET stream and `resources/subscribe`, and both are fed by the same
publisher: a change published to the server's broker reaches every 2025 session that may hear
of it (`Broadcasts.deliver`) and every open listen of this process (`Listeners`). A
listen first acknowledges what it will honour (`notifications/subscriptions/acknowledged`,
the subset of the client's filter the server can announce), then sends each matching change
with the listen's id in `_meta` (`io.modelcontextprotocol/subscriptionId`), until the client
cancels it (closes its HTTP stream, or sends notifications/cancelled on stdio) or the server
stops (then it answers the request: a graceful end).

What waits to be sent is bounded by what a listen can match: a change already waiting is not
queued twice, so a client that reads slowly costs one entry per list and subscribed URI. What a
listen follows is bounded too (`check_filter`): its URIs and task ids are held for as long as
it stays open, so their number, their length and their bytes together have a ceiling each.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol.codes import INVALID_PARAMS
from mcpkit.protocol.modern import SUBSCRIPTION_ID_KEY
from mcpkit.stores.broker import Change
from mcpkit.types import RequestId, ServerCapabilities
from mcpkit.types._gen_2026_07_28 import SubscriptionFilter, SubscriptionsListenRequestParams

__all__ = [
    "MAX_LISTEN_FILTER_BYTES",
    "MAX_LISTEN_ID_BYTES",
    "MAX_RESOURCE_SUBSCRIPTIONS",
    "Listen",
    "ListenParams",
    "Listeners",
    "agreed_filter",
    "check_filter",
]

# The filter's list-change flags: the notification each opts in to, and the capability
# whose `listChanged` the server must declare to honour it.
_LIST_CHANGES: Final = {
    "toolsListChanged": ("notifications/tools/list_changed", "tools"),
    "promptsListChanged": ("notifications/prompts/list_changed", "prompts"),
    "resourcesListChanged": ("notifications/resources/list_changed", "resources"),
}
_UPDATED: Final = "notifications/resources/updated"
#: The most resources one listen may follow (`resourceSubscriptions`), and tasks (`taskIds`).
MAX_RESOURCE_SUBSCRIPTIONS: Final = 1000
#: The longest URI (or task id) one listen may follow, in UTF-8 bytes.
MAX_LISTEN_ID_BYTES: Final = 4096
#: The UTF-8 bytes of all the URIs and task ids one listen follows together: what an open
#: listen holds for its filter stays near this (1,000 URIs of 1 KiB each held 1.3 MiB).
MAX_LISTEN_FILTER_BYTES: Final = 64 * 1024
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


def check_filter(requested: dict[str, Any]) -> None:
    """Raise -32602 (invalid params) naming the limit when the URIs or task ids a listen asks
    to follow are too many (`MAX_RESOURCE_SUBSCRIPTIONS`), one is too long
    (`MAX_LISTEN_ID_BYTES`) or all together are too large (`MAX_LISTEN_FILTER_BYTES`). A
    refusal, not a silent cut: a client told what was dropped can open a second listen."""
    # Counted on the filter as the client sent it: a malformed entry (not text) counts as
    # nothing here and is dropped by `agreed_filter`.
    total = 0
    for field in ("resourceSubscriptions", "taskIds"):
        found: object = requested.get(field)
        named: list[object] = found if isinstance(found, list) else []  # pyright: ignore[reportUnknownVariableType]
        if len(named) > MAX_RESOURCE_SUBSCRIPTIONS:
            _too_much(
                f"{field} names {len(named)} items; a listen follows at most "
                f"{MAX_RESOURCE_SUBSCRIPTIONS} (MAX_RESOURCE_SUBSCRIPTIONS)",
                "MAX_RESOURCE_SUBSCRIPTIONS",
                MAX_RESOURCE_SUBSCRIPTIONS,
            )
        for item in named:
            size = len(item.encode()) if isinstance(item, str) else 0
            if size > MAX_LISTEN_ID_BYTES:
                _too_much(
                    f"{field} names an item of {size} bytes; one may have at most "
                    f"{MAX_LISTEN_ID_BYTES} (MAX_LISTEN_ID_BYTES)",
                    "MAX_LISTEN_ID_BYTES",
                    MAX_LISTEN_ID_BYTES,
                )
            total += size
    if total > MAX_LISTEN_FILTER_BYTES:
        _too_much(
            f"the URIs and task ids to follow take {total} bytes; a listen's may take at most "
            f"{MAX_LISTEN_FILTER_BYTES} (MAX_LISTEN_FILTER_BYTES)",
            "MAX_LISTEN_FILTER_BYTES",
            MAX_LISTEN_FILTER_BYTES,
        )


def _too_much(what: str, limit: str, value: int) -> None:
    """Refuse the listen; `data` names the bound and its value for a client to adapt to."""
    raise McpError(
        INVALID_PARAMS,
        f"subscriptions/listen: {what}: split them across several listens",
        {"limit": limit, "max": value},
    )


def agreed_filter(requested: dict[str, Any], capabilities: ServerCapabilities) -> dict[str, Any]:
    """The part of a client's filter this server honours: list changes of the features it
    declares `listChanged` for, and resource updates where it declares `subscribe`."""
    agreed: dict[str, Any] = {}
    declared = {
        "tools": capabilities.tools,
        "prompts": capabilities.prompts,
        "resources": capabilities.resources,
    }
    for key, (_, feature) in _LIST_CHANGES.items():
        found = declared[feature]
        # Only a JSON `true` opts in: a filter flag of any other value is no request.
        if requested.get(key) is True and found is not None and found.list_changed:
            agreed[key] = True
    uris = requested.get("resourceSubscriptions")
    resources = capabilities.resources
    # Non-text entries are dropped, and the bound applied again, so the acknowledgement
    # only ever names what this listen will follow.
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
        "via",
    )

    def __init__(self, request_id: RequestId, agreed: dict[str, Any], via: object = None) -> None:
        self.request_id = request_id
        #: The session serving it (for `Listeners.end`): under 2026-07-28 over HTTP, its
        #: request's own.
        self.via = via
        # Fixed for the listen's life: what the acknowledgement named is what it gets.
        self.methods = frozenset(m for k, (m, _) in _LIST_CHANGES.items() if agreed.get(k))
        self.uris: frozenset[str] = frozenset(agreed.get("resourceSubscriptions") or ())
        self.task_ids: frozenset[str] = frozenset(agreed.get("taskIds") or ())
        self._pending: dict[Change, None] = {}  # (ordered, and a change waits once)
        self._tasks: dict[str, dict[str, Any]] = {}  # the latest state of each task, once
        self._wake = asyncio.Event()
        self.closed = False

    def offer(self, change: Change) -> None:
        """Queue `change` when this listen opted in to it. A change equal to one already
        waiting is not queued again: the client needs to hear once that a list changed."""
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
            # Popped first, so the newer state also moves to the end: tasks are sent in the
            # order they last changed, and one task waits at most once.
            self._tasks.pop(task_id, None)
            self._tasks[task_id] = task
            self._wake.set()

    def close(self) -> None:
        """The server stops: `next` returns None once what waits has gone."""
        self.closed = True
        self._wake.set()

    async def next(self) -> dict[str, Any] | None:
        """The next notification to send (method and params), or None once closed."""
        # What waits is sent before a close takes effect, so a change published just
        # before shutdown still reaches the client.
        while not self._pending and not self._tasks:
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()
        # Changes first, then task states: tasks are sent only when no change waits.
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
    """The open listens of one server in this process.

    Other processes serving the same server have their own; the broker brings each of
    them every change, so a listen hears of changes made anywhere.
    """

    __slots__ = ("_by_via", "_open")

    def __init__(self) -> None:
        self._open: set[Listen] = set()
        self._by_via: dict[object, set[Listen]] = {}  # those with a `via`, by it (for `end`)

    def __len__(self) -> int:
        return len(self._open)

    def add(self, listen: Listen) -> None:
        """Start delivering to `listen`, until it is discarded."""
        self._open.add(listen)
        if listen.via is not None:
            self._by_via.setdefault(listen.via, set()).add(listen)

    def discard(self, listen: Listen) -> None:
        """Stop delivering to `listen` (its request ended, answered or cancelled); its
        session's entry goes with its last listen, so none is held for a closed session."""
        self._open.discard(listen)
        same = self._by_via.get(listen.via)
        if same is not None:
            same.discard(listen)
            if not same:
                del self._by_via[listen.via]

    def deliver(self, change: Change) -> None:
        """Offer a published change to every open listen; each keeps what it opted in to.
        Never blocks: a slow client's listen holds its changes, bounded (module docstring)."""
        for listen in self._open:
            listen.offer(change)

    def followed_uris(self) -> set[str]:
        """The resources some open listen follows (`resourceSubscriptions`)."""
        return {uri for listen in self._open for uri in listen.uris}

    def follows(self, task_id: str) -> bool:
        """Whether some open listen follows the task (`taskIds`)."""
        return any(task_id in listen.task_ids for listen in self._open)

    def deliver_task(self, task_id: str, task: dict[str, Any]) -> None:
        """Offer a task's new state to every open listen; those following the task keep it."""
        for listen in self._open:
            listen.offer_task(task_id, task)

    def end(self, via: object) -> bool:
        """Answer the listens served by the session `via` now (their graceful end, as at
        shutdown); whether there was one."""
        found = [listen for listen in self._by_via.get(via, ()) if not listen.closed]
        for listen in found:
            listen.close()
        return bool(found)

    def close_all(self) -> None:
        """The server stops: every listen is answered once what waits for it is sent."""
        for listen in list(self._open):
            listen.close()
