"""The server side of Streamable HTTP, the binding alone (spec: basic/transports, "Streamable
HTTP"): the request checks (`checks`, Origin included, as the spec's security warning asks),
POST (`post`), GET and DELETE (`get_delete`), sessions (`hosting`, `live_sessions`), SSE streams
and their resumption (`streams`, `sse_stream` with `stream_reading` and `stream_storing`), and
both eras' requests (the 2026-07-28 ones: `own_calls`, `mirrored`). The Origin and Host
policy it applies is shared with the other HTTP endpoints, in `mcpkit.transports.guards`. The
ASGI app that serves it, with what a deployment adds, is `mcpkit.transports.deployment`
(reached as `Server.http_app()`, docs/http.md): among it the bearer-token check, each client's
caps, the memos of what clients sent, the records of sessions kept in a store, which the
binding names as Protocols by what they do (`live_sessions.TokenGuard`, `ClientRoom`,
`mirrored.MirrorMemory`, `hosting.RecordKeeping`) and never imports. The client side is
`mcpkit.transports.http_client` (docs/client.md)."""

from __future__ import annotations

__all__: list[str] = []
