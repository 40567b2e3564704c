"""What a deployment adds around the Streamable HTTP binding (`transports.http`, which holds what
the spec's transport section describes and never imports this package): the ASGI app that serves
the endpoint (`app.McpHttpApp`, built by `Server.http_app()`, its settings in `app_settings`)
and its lifetime (`app_lifespan`: the server's lifespan, the idle sweep, the shutdown), the
records of sessions that outlive a process (`session_records`, in the app's session store) and
the streams another process numbered (`relay`), the bearer-token check of a protected
endpoint (`guard`, spec: basic/authorization), with its health routes, approval page, custom
routes and public documents beside it, the trusted proxies' forwarded addresses, what one
client may hold (its live sessions and 2026-07-28 requests in flight, `client_caps`), what the
checks of a server's 2026-07-28 POSTs remember of what clients sent (`mirror_memos`), what all
clients together may cost (the bodies being read and the connections, `capacity`; the bytes
slow readers hold, `slow_readers`), and uvicorn's protocol with the connection limits ASGI
cannot see (`uvicorn_protocol`, `connection_limits`, `uvicorn_shape`).

It relies on: ASGI 3 (every module here); uvicorn, for `uvicorn_protocol` and
`connection_limits` alone, which read uvicorn's internals and check their shape at start (loaded
only when uvicorn serves the app); the resource server of `mcpkit.auth.server`, for `guard`;
of the binding, its request checks (`checks`), its parts serving POST, GET and DELETE (`post`,
`get_delete`), the sessions they serve (`hosting`, `live_sessions`) and their streams
(`streams`); the Origin policy every HTTP endpoint shares (`transports.guards`); and the legacy
HTTP+SSE endpoint (`transports.legacy_sse`), which the app serves beside the MCP endpoint. The
binding and the legacy endpoint name what they ask of this package as Protocols, by what it
does: the budgets (`stream_storing.QueuedBudget`, `_exchange.BodyBudget`), the caps
(`live_sessions.ClientRoom`), the memos (`mirrored.MirrorMemory`), the records' keeper
(`hosting.RecordKeeping`) and the token check (`live_sessions.TokenGuard`). What the
deployment needs of the server beyond what the binding does is `hosted_server.HostedServer`."""

from __future__ import annotations

__all__: list[str] = []
