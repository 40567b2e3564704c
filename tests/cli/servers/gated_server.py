"""A server that offers some tools only to clients that declared what they need, as the npm
reference server `everything` does: `summarize` to those that can sample, `confirm` to those
that can elicit, `where` to those that give roots."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit import Context, Server
from mcpkit.server.middleware import CallNext

server = Server("gated")

NEEDS = {"summarize": "sampling", "confirm": "elicitation", "where": "roots"}


@server.tool()
def plain() -> str:
    """Offered to every client."""
    return "plain"


@server.tool()
def summarize() -> str:
    """Offered to clients that can sample."""
    return "summarize"


@server.tool()
def confirm() -> str:
    """Offered to clients that can elicit."""
    return "confirm"


@server.tool()
def where() -> str:
    """Offered to clients that give roots."""
    return "where"


async def gate(ctx: Context, params: Any, call_next: CallNext) -> Any:
    result = await call_next(params)
    if ctx.method != "tools/list":
        return result
    caps = ctx.client_capabilities
    offered = [
        t for t in result.tools if t.name not in NEEDS or getattr(caps, NEEDS[t.name]) is not None
    ]
    return msgspec.structs.replace(result, tools=offered)


server.add_middleware(gate)
