"""The eras surface (see README.md), served by the official Python SDK's MCPServer: over stdio,
or with `--http` over Streamable HTTP on an ephemeral 127.0.0.1 port (it logs
`over Streamable HTTP at <url>` on stderr once it listens), in either era.

`plan` asks through resolvers (`Elicit`, then `Sample`): the SDK sends them as requests on
a 2025-11-25 session and as an `InputRequiredResult` on 2026-07-28.
No `from __future__ import annotations`: MCPServer evaluates the tools' annotations.
"""

import socket
import sys
from typing import Annotated

import anyio
import uvicorn
from mcp.server.mcpserver import Elicit, MCPServer, Resolve, Sample
from mcp_types import CreateMessageResult, SamplingMessage, TextContent
from pydantic import BaseModel

__all__ = ["server"]

server = MCPServer("official-eras", version="1.0.0", instructions="interop eras server")


class Traveller(BaseModel):
    name: str


def ask_name(city: str) -> Elicit[Traveller]:
    return Elicit(f"Who goes to {city}?", Traveller)


def ask_llm(city: str, who: Annotated[Traveller, Resolve(ask_name)]) -> Sample:
    question = f"Plan a day in {city} for {who.name}"
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text=question))],
        max_tokens=50,
    )


@server.tool()
def plan(
    city: str,
    who: Annotated[Traveller, Resolve(ask_name)],
    answer: Annotated[CreateMessageResult, Resolve(ask_llm)],
) -> str:
    """Ask who travels, then ask the client's LLM for a plan."""
    return f"{who.name}: {getattr(answer.content, 'text', None)}"


@server.resource("config://app", mime_type="application/json")
def config() -> str:
    """The app's configuration."""
    return '{"debug": false}'


@server.prompt()
def review(code: str) -> str:
    """Ask for a review of `code`."""
    return f"Please review this code:\n{code}"


async def serve_http() -> None:
    """Serve the Streamable HTTP app on a port the OS picks; say where on stderr."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # listening before it says so: a client may connect at once
    port = sock.getsockname()[1]
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
    print(f"official-eras over Streamable HTTP at http://127.0.0.1:{port}/mcp", file=sys.stderr)
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    if "--http" in sys.argv[1:]:
        anyio.run(serve_http)
    else:
        server.run()
