"""The client end of Streamable HTTP (spec: basic/transports, "Streamable HTTP"):
`StreamableHttpTransport` is a `MessageChannel` that `Client` takes as its target, or builds
itself from a URL; `LegacyFallback` is how it says the server speaks the older HTTP+SSE."""

from __future__ import annotations

from mcpkit.transports.http_client._fallback import LegacyFallback
from mcpkit.transports.http_client._wire import falls_back_to_legacy
from mcpkit.transports.http_client.transport import StreamableHttpTransport

__all__ = ["LegacyFallback", "StreamableHttpTransport", "falls_back_to_legacy"]
