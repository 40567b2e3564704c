"""The inspector's client for a target under the connection panel's settings: the era pinned or
found, the request timeout, a started server's environment, a URL's headers, and the transport
(as the target implies, or one pinned: Streamable HTTP without its fallback, or HTTP+SSE)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.inspector.panel_settings import ConnectionSettings

if TYPE_CHECKING:
    from mcpkit.client.client import Client
    from mcpkit.client.target import Target
    from mcpkit.transports.connect import Opened

__all__ = ["era_options", "open_inspector_client"]

#: Seconds a server has to answer the handshake (or server/discover): it may be starting up
#: (imports, an npx download), whatever the requests' own timeout.
_MIN_INIT_TIMEOUT = 30.0


def era_options(settings: ConnectionSettings) -> dict[str, Any]:
    """The `Client` options the settings give whatever the transport: the era, the timeout,
    the state key's middleware."""
    timeout = settings.timeout
    options: dict[str, Any] = {
        "protocol": settings.protocol,
        "timeout": timeout,
        "init_timeout": max(timeout or 0.0, _MIN_INIT_TIMEOUT),
    }
    if settings.state_key is not None:
        from mcpkit.client.middleware import StateKey

        options["middleware"] = (StateKey(settings.state_key),)
    return options


def open_inspector_client(target: Target, settings: ConnectionSettings, **options: Any) -> Client:
    """A `Client` (not yet connected) for `target` over the transport `settings` choose, with
    their environment or headers; `options` are the rest (`era_options`, the hub's handlers).
    `settings.check(target)` has passed."""
    from mcpkit.client.client import Client
    from mcpkit.client.target import open_client

    url = target.argv_or_url
    if not isinstance(url, str) or settings.transport == "auto":
        headers = dict(settings.headers) or None
        env = dict(settings.env) or None
        return open_client(target, headers=headers, env=env, stderr="devnull", **options)
    headers = dict(settings.headers)
    if settings.transport == "sse":
        from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
        from mcpkit.transports.legacy_sse_client import open_legacy_sse

        async def legacy() -> Opened:
            return await open_legacy_sse(url, headers, DEFAULT_MAX_MESSAGE_SIZE)

        return Client(legacy, **options)

    async def streamable() -> Opened:
        from mcpkit.transports.http_client import StreamableHttpTransport

        # Used as the channel itself: a refusal of the initialize POST (400, 404, 405) ends
        # the connect with the server's answer instead of trying HTTP+SSE.
        transport = StreamableHttpTransport(url, headers=headers)
        transport.open()
        return transport, transport.aclose

    return Client(streamable, **options)
