"""The eras surface (see README.md), served by FastMCP 4: over stdio, or with `--http` over
Streamable HTTP on an ephemeral 127.0.0.1 port (it logs `over Streamable HTTP at <url>` on
stderr once it listens), in either era.

FastMCP's `ctx.elicit()` and the session's `create_message()` are requests on a 2025-11-25
session only; on 2026-07-28 a tool asks with the guard pattern (SEP-2322): it returns an
`InputRequiredResult` and reads the answers in `ctx.input_responses` when the client
retries, carrying what it learnt in `request_state`. `plan` does each in its era.
No `from __future__ import annotations`: FastMCP evaluates the tools' annotations.
"""

import socket
import sys
import warnings

import anyio
import mcp_types as types
import uvicorn
from fastmcp import Context, FastMCP
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

__all__ = ["server"]

server = FastMCP("fastmcp-eras", version="1.0.0", instructions="interop eras server")
FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


class Traveller(BaseModel):
    name: str


def question(city: str) -> str:
    return f"Who goes to {city}?"


def sampling(city: str, name: str) -> types.CreateMessageRequestParams:
    text = f"Plan a day in {city} for {name}"
    return types.CreateMessageRequestParams(
        messages=[
            types.SamplingMessage(role="user", content=types.TextContent(type="text", text=text))
        ],
        max_tokens=50,
    )


def answer(name: str, result: types.CreateMessageResult) -> str:
    return f"{name}: {getattr(result.content, 'text', None)}"


async def plan_2026(city: str, ctx: Context) -> str | types.InputRequiredResult:
    """The guard pattern: ask for the name, then the plan, one round each."""
    responses = ctx.input_responses or {}
    if "plan" in responses and ctx.request_state is not None:
        result = responses["plan"]
        assert isinstance(result, types.CreateMessageResult)
        return answer(ctx.request_state, result)
    if "who" in responses:
        who = responses["who"]
        assert isinstance(who, types.ElicitResult)
        name = (
            str((who.content or {}).get("name", "nobody")) if who.action == "accept" else "nobody"
        )
        ask = types.CreateMessageRequest(params=sampling(city, name))
        return types.InputRequiredResult(input_requests={"plan": ask}, request_state=name)
    form = types.ElicitRequestFormParams(message=question(city), requested_schema=FORM)
    return types.InputRequiredResult(input_requests={"who": types.ElicitRequest(params=form)})


@server.tool
async def plan(city: str, ctx: Context) -> str | types.InputRequiredResult:
    """Ask who travels, then ask the client's LLM for a plan."""
    rc = ctx.request_context
    if rc is not None and rc.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return await plan_2026(city, ctx)
    who = await ctx.elicit(question(city), Traveller)
    name = who.data.name if who.action == "accept" else "nobody"
    params = sampling(city, name)
    result = await ctx.session.create_message(
        params.messages, max_tokens=params.max_tokens, related_request_id=ctx.request_id
    )
    return answer(name, result)


@server.resource("config://app", mime_type="application/json")
def config() -> str:
    """The app's configuration."""
    return '{"debug": false}'


@server.prompt
def review(code: str) -> str:
    """Ask for a review of `code`."""
    return f"Please review this code:\n{code}"


async def serve_http() -> None:
    """Serve the Streamable HTTP app on a port the OS picks; say where on stderr."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # listening before it says so: a client may connect at once
    port = sock.getsockname()[1]
    config = uvicorn.Config(server.http_app(transport="streamable-http"), log_level="warning")
    print(f"fastmcp-eras over Streamable HTTP at http://127.0.0.1:{port}/mcp", file=sys.stderr)
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    # Sampling is deprecated by 2026-07-28 (SEP-2577), yet served on 2025-11-25 sessions.
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    if "--http" in sys.argv[1:]:
        anyio.run(serve_http)
    else:
        server.run(show_banner=False)
