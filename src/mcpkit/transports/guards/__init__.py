"""What every HTTP endpoint of mcpkit checks before it serves MCP, shared by the Streamable HTTP
binding (`transports.http`), the legacy HTTP+SSE endpoint (`transports.legacy_sse`) and the
routes a deployment adds beside them (`transports.deployment`): the Origin and Host a request
came with, against DNS rebinding (`origin`; spec: basic/transports, "Security Warning"), and the
bearer token of a protected endpoint with the scopes a call needs (`bearer`; spec:
basic/authorization). Apart from the binding because all three use them, and below all three:
this package imports none of them."""

from __future__ import annotations

__all__: list[str] = []
