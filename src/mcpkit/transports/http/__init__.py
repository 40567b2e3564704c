"""The server side of Streamable HTTP, the binding alone (spec: basic/transports, "Streamable
HTTP"): the request checks (`checks`, Origin included, as the spec's security warning asks),
POST (`post`), GET and DELETE (`get_delete`), sessions (`hosting`, `live_sessions`), SSE
streams and their resumption (`streams`, `sse_stream`, `relay`), both eras' requests. The ASGI
app that serves it, with what a deployment adds, is `mcpkit.transports.deployment` (reached
as `Server.http_app()`, docs/http.md); the client side is `mcpkit.transports.http_client`
(docs/client.md)."""

from __future__ import annotations

__all__: list[str] = []
