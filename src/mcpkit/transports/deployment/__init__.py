"""What a deployment adds around the Streamable HTTP binding (`transports.http`, which holds what
the spec's transport section describes and never imports this package): the ASGI app that
serves the endpoint (`app.McpHttpApp`, built by `Server.http_app()`) with its health routes,
approval page, custom routes and public documents beside it, the trusted proxies' forwarded
addresses, what all clients together may cost (`capacity`), and uvicorn's protocol with the
connection limits ASGI cannot see (`uvicorn_protocol`, `uvicorn_shape`).

It relies on: ASGI 3 (every module here); uvicorn, for `uvicorn_protocol` alone, which reads
uvicorn's internals and checks their shape at start (loaded only when uvicorn serves the app);
and of the binding, its request checks (`checks`), its parts serving POST, GET and DELETE
(`post`, `get_delete`) and the sessions they serve (`hosting`, `live_sessions`), their streams
(`streams`, with `slow_readers`' budget) and the bearer-token check (`guard`)."""

from __future__ import annotations

__all__: list[str] = []
