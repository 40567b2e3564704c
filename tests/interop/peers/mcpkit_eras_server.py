"""The eras surface (see README.md), served by mcpkit: over stdio by `mcpkit run FILE`, over
Streamable HTTP by `mcpkit run FILE --transport http`; in either era, from one process.

`plan(city)` elicits the traveller's name, then samples a plan for them, then returns
`"<name>: <the sampled text>"`, and logs `plan answered on <revision>` on stderr, so a test
can tell which era the server (not only the client) saw; `config://app` reads
`{"debug": false}`; prompt `review(code)` asks for a review of `code`.
"""

from __future__ import annotations

import sys

from mcpkit import Context, Server

__all__ = ["server"]

server = Server("mcpkit-eras", version="1.0.0", instructions="interop eras server")

FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def plan(city: str, ctx: Context) -> str:
    """Ask who travels, then ask the client's LLM for a plan."""
    who = await ctx.elicit(f"Who goes to {city}?", FORM)
    name = who.data["name"] if who.action == "accept" and who.data else "nobody"
    result = await ctx.sample(f"Plan a day in {city} for {name}", max_tokens=50)
    print(f"plan answered on {ctx.protocol_version}", file=sys.stderr, flush=True)
    return f"{name}: {getattr(result.content, 'text', None)}"


@server.resource("config://app", mime_type="application/json")
def config() -> str:
    """The app's configuration."""
    return '{"debug": false}'


@server.prompt()
def review(code: str) -> str:
    """Ask for a review of `code`."""
    return f"Please review this code:\n{code}"
