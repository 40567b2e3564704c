"""The broker: how news reaches every session, wherever it is served.

A server announces changes (a list changed, a resource was updated) by publishing a
`Change` here, never by looping over its own sessions: with one process the broker hands the
change straight back to the server's delivery (`MemoryBroker`); with several, a shared
broker carries it to every process, each of which delivers it to the sessions it holds.

The broker also takes responses that no request of the receiving session awaits
(`mcpkit.protocol.events.StrayResponse`). In one process none of them can be used (a late
answer to a request we gave up, or a broken peer), and `MemoryBroker` counts and drops
them; a shared broker hands one whose id carries another process's prefix
(`mcpkit.protocol.ids`) to that process.

Publishing never waits: `publish` and `forward_response` return at once. They are called on
the event loop (never from a sync handler's worker thread); a broker that talks to a network
queues what it is given and sends it from a task of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

import msgspec

from mcpkit.protocol.events import StrayResponse

__all__ = [
    "SESSION_CHANGED",
    "Broker",
    "CancelHandler",
    "Change",
    "ChangeHandler",
    "MemoryBroker",
    "ResponseHandler",
    "SharedBroker",
]

logger = logging.getLogger("mcpkit.stores.broker")


class Change(msgspec.Struct, frozen=True, array_like=True):
    """A change every session that may hear of it is told about: `method` is the
    notification (`notifications/tools/list_changed`, `notifications/resources/updated`,
    ...), `uri` the resource for `resources/updated` (sent only to its subscribers), else
    None. Plain data, so a shared broker sends it as `msgspec` JSON."""

    method: str
    uri: str | None = None


ChangeHandler = Callable[[Change], None]

#: The `method` of a `Change` that no client is sent: the record of session `uri` (its id)
#: changed, or was deleted, in the process that published it. A process holding that session
#: too reads the record again (several processes serving one session: issue 23).
SESSION_CHANGED: Final = "mcpkit/session-changed"


@runtime_checkable
class Broker(Protocol):
    """Carries changes to every process serving sessions, and stray responses to the process
    that awaits them. Handlers run on the event loop and must not block."""

    def publish(self, change: Change) -> None:
        """Announce `change`: every handler subscribed, in every process, is called with it
        (this process's too)."""
        ...

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        """Call `handler` with every change published from now on; returns the function that
        stops it."""
        ...

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        """A response the session `session_id` received for a request it does not await:
        hand it to the process that sent the request, if that is another one."""
        ...


#: A handler of the responses other processes forward here: (session id, the response).
ResponseHandler = Callable[[str, bytes], None]
#: A handler of cancellations other processes received: (session id, request id, reason).
CancelHandler = Callable[[str, "int | str", "str | None"], None]


@runtime_checkable
class SharedBroker(Broker, Protocol):
    """A broker several processes share (`RedisBroker`, `SqliteBroker`). It is started before
    the first session is served, and carries what one process receives for a request that
    another serves: responses (`forward_response`, then `subscribe_responses` there) and
    cancellations. A server tells it from a `Broker` once, with `isinstance`, when it takes
    it."""

    async def start(self, timeout: float | None = None) -> bool:
        """Subscribe; whether it did within `timeout` seconds (it keeps trying if not)."""
        ...

    def subscribe_responses(self, handler: ResponseHandler) -> Callable[[], None]:
        """Call `handler(session_id, response)` with each response another process forwards
        here; returns the function that stops it."""
        ...

    def subscribe_cancels(self, handler: CancelHandler) -> Callable[[], None]:
        """Call `handler(session_id, request_id, reason)` with each cancellation another
        process received for a request it does not serve; returns the function that stops
        it."""
        ...

    def forward_cancel(self, session_id: str, request_id: int | str, reason: str | None) -> None:
        """The client of `session_id` cancelled `request_id`, which this process does not
        serve: tell the other processes."""
        ...


class MemoryBroker:
    """The broker of one process: `publish` calls the handlers at once, in the order they
    subscribed. Stray responses cannot belong to another process: they are counted in
    `stray_responses` and dropped with a debug log line."""

    __slots__ = ("_handlers", "stray_responses")

    def __init__(self) -> None:
        self._handlers: list[ChangeHandler] = []
        #: Responses forwarded here and dropped, since the process started.
        self.stray_responses = 0

    def publish(self, change: Change) -> None:
        # A copy: a handler may subscribe or unsubscribe while we go through them.
        for handler in tuple(self._handlers):
            try:
                handler(change)
            except Exception:  # one broken handler must not keep the change from the rest
                logger.exception("a handler of %s failed", change.method)

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        self.stray_responses += 1
        logger.debug(
            "session %s: dropped a response to request %r, which nothing awaits",
            session_id,
            response.request_id,
        )
