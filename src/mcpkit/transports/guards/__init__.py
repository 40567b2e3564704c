"""What every HTTP endpoint of mcpkit checks of a request's Origin and Host before it serves MCP,
against DNS rebinding (`origin`; spec: basic/transports, "Security Warning"): shared by the
Streamable HTTP binding (`transports.http`), the legacy HTTP+SSE endpoint
(`transports.legacy_sse`) and the routes a deployment adds beside them
(`transports.deployment`). Apart from the binding because all three use it, and below all three:
this package imports none of them. (The bearer-token check, which the same three apply, is the
deployment's, `transports.deployment.guard`: it answers with the binding's refusals and reads
its sessions' host; the binding and the legacy endpoint name it as a Protocol,
`transports.http.live_sessions.TokenGuard`.)"""

from __future__ import annotations

__all__: list[str] = []
