"""What the deployment needs of the server it hosts, beyond what the binding does
(`transports.http.live_sessions.HostServer`, which this extends): the server's lifespan hook
and the context that runs it, its store (the DPoP replay cache, the leases of the processes
sharing it, the readiness check) and broker (the news of sessions another process changed),
the 2026-07-28 listens to answer when a shutdown begins, the scopes its items need beyond the
endpoint's own, and the arguments its tools mirror into headers. `mcpkit.Server` is one;
transports sit below the server layer, so they name only this.

It relies on: the binding's `HostServer`, and the stores' interfaces (`mcpkit.stores`)."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mcpkit.stores.broker import Broker
from mcpkit.stores.component_rules import ComponentRule
from mcpkit.stores.url import Stores
from mcpkit.transports.http.live_sessions import HostServer

__all__ = ["HostedServer"]


class HostedServer(HostServer, Protocol):
    """The server a deployment serves: the binding's `HostServer`, and what hosting it adds."""

    @property
    def lifespan(self) -> object | None:
        """The server's lifespan hook, None if it has none."""
        ...

    @property
    def broker(self) -> Broker: ...

    @property
    def store(self) -> Stores: ...

    def running(self) -> AbstractAsyncContextManager[object]: ...

    def close_listens(self) -> None:
        """Answer every open 2026-07-28 `subscriptions/listen` now (a shutdown begins)."""
        ...

    def scopes_for(
        self, method: str, target: str, session_rules: tuple[ComponentRule, ...] = ()
    ) -> frozenset[str]:
        """The scopes a `method` request on the item `target` (a tool's or prompt's name, a
        resource's URI) needs beyond the endpoint's own (empty for most, and for an item the
        request may not see: the rules of its session, `session_rules`, hide it)."""
        ...

    def param_headers(self, tool_name: str) -> Mapping[str, tuple[str, ...]] | None:
        """The arguments a tool mirrors into `Mcp-Param-{Name}` headers (2026-07-28), by
        path; None for an unknown tool (the app's `MirrorMemos`, when the server gives it
        none)."""
        ...
