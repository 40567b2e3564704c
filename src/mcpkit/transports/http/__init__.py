"""The Streamable HTTP transport (spec: basic/transports, "Streamable HTTP"): request checks
now, the ASGI app and the client next."""

from __future__ import annotations

__all__: list[str] = []
