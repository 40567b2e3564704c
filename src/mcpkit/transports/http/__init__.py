"""The server side of Streamable HTTP (spec: basic/transports, "Streamable HTTP"): the request
checks, the ASGI app (`app`, reached as `Server.http_app()`), its sessions, streams and event
store, the stateless mode and the legacy HTTP+SSE endpoints (docs/http.md). The client side is
`mcpkit.transports.http_client` (docs/client.md)."""

from __future__ import annotations

__all__: list[str] = []
