"""The Streamable HTTP transport (spec: basic/transports, "Streamable HTTP"): the request
checks, the server's ASGI app (`app`, reached as `Server.http_app()`), its sessions and
streams; the client comes next (docs/http.md says what is there)."""

from __future__ import annotations

__all__: list[str] = []
