"""The chain each method runs, where a typed middleware takes part only in the methods whose
hooks it overrides (and the protocol checks the handshake's answer outside them all), and the
observing hooks a session's events start."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from mcpkit.protocol.events import NotificationReceived
from mcpkit.server.catalog.calling.tool_errors import reporting_tool_errors
from mcpkit.server.middleware.protocol_requests import ACCEPTING
from mcpkit.server.middleware.typed import TypedMiddleware

__all__ = ["chain_for", "observe", "observers", "watched_event"]

logger = logging.getLogger("mcpkit.server")

#: (id of a server's middleware tuple, method) -> (that tuple, the chain that method runs).
#: By identity, not equality: two servers' layers that compare equal (frozen dataclasses)
#: are still each their own; the tuple kept in the value keeps its id from being reused.
#: Bounded: a server's middleware is set before it serves, so only a server rebuilt again
#: and again would fill it.
_chains: dict[tuple[int, str], tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
_MAX_CHAINS = 4096


def chain_for(middleware: tuple[Any, ...], method: str) -> tuple[Any, ...]:
    """The layers a `method` request runs through: `middleware` itself when it holds no
    typed middleware, else with each typed one replaced by its hooks for `method`."""
    key = (id(middleware), method)
    found = _chains.get(key)
    if found is not None and found[0] is middleware:
        return found[1]
    if len(_chains) >= _MAX_CHAINS:
        _chains.clear()
    chain = _chain(middleware, method)
    _chains[key] = (middleware, chain)
    return chain


def _chain(middleware: Sequence[Any], method: str) -> tuple[Any, ...]:
    """The layers for `method`, worked out once per middleware tuple (`chain_for`); for
    tools/call each wrapped once here rather than on every call."""
    if method == "tools/call":  # (a ToolError a layer raises is the call's error result)
        return tuple(reporting_tool_errors(layer) for layer in _layers(middleware, method))
    return _layers(middleware, method)


def _layers(middleware: Sequence[Any], method: str) -> tuple[Any, ...]:
    accepting = ACCEPTING.get(method)  # (initialize, server/discover: the protocol's check)
    if accepting is None and not any(isinstance(layer, TypedMiddleware) for layer in middleware):
        return tuple(middleware)
    # The protocol's check is outermost: it sees the answer after every hook has had its
    # say, and settles the session on it last (`protocol_requests`).
    chain: list[Any] = [] if accepting is None else [accepting]
    for layer in middleware:
        if isinstance(layer, TypedMiddleware):
            chain.extend(layer.layers_for(method))
        else:
            chain.append(layer)
    return tuple(chain)


def observers(middleware: Sequence[Any], hook: str) -> list[Callable[..., Awaitable[None]]]:
    """The bound `hook` (on_notification) of each typed middleware that overrides it,
    outermost first."""
    return [
        getattr(layer, hook)
        for layer in middleware
        if isinstance(layer, TypedMiddleware) and layer.overrides(hook)
    ]


async def observe(hooks: Sequence[Callable[..., Awaitable[None]]], *args: Any) -> None:
    """Run observing hooks one after another; one that fails is logged, the rest still run."""
    for hook in hooks:
        try:
            await hook(*args)
        except Exception:  # (from a task of its own: nobody else would hear of it)
            logger.exception("middleware hook %r failed", hook)


def watched_event(
    middleware: Sequence[Any], handle: Any, ev: object
) -> Coroutine[Any, Any, None] | None:
    """What the typed middleware that observe a 2025-era session's notifications make of
    event `ev` (to be run in a task), or None."""
    if isinstance(ev, NotificationReceived):
        hooks = observers(middleware, "on_notification")
        return observe(hooks, handle, ev.method, ev.params) if hooks else None
    return None
