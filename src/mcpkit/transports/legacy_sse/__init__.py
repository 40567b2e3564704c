"""The server side of the deprecated HTTP+SSE transport of protocol 2024-11-05 (2025-11-25
basic/transports, "Backwards Compatibility"), a binding of its own beside Streamable HTTP's:
a GET opens a session's SSE stream, whose first event names the URL its client POSTs each
message to (`endpoint`; what such a POST is checked against and answered with,
`message_posts`), each session one channel, protocol session and stream
(`legacy_session`). It builds on the Streamable HTTP binding (`transports.http`: its checks,
session registry and streams, and the token check as it names it, `TokenGuard`), which never
imports it; the app that serves both is `transports.deployment.app`, which hands it the
token check (`transports.deployment.guard`). The client side is `transports.legacy_sse_client`."""

from __future__ import annotations

__all__: list[str] = []
