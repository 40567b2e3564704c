"""An upstream for the config tests, run over stdio by `Server.from_config`: `where` tells
what its process was given (its working directory, one variable of its environment), and
`--no-listing` makes it a server whose tools/list fails, `--no-prompt-listing` one whose
prompts/list fails (after its tools are listed)."""

from __future__ import annotations

import os
import sys

from mcpkit import Context, Server
from mcpkit.errors import McpError
from mcpkit.server.middleware import CallNext

server = Server("config-upstream")


@server.tool()
def where(variable: str) -> str:
    """This process's working directory and the value of `variable` in its environment."""
    return f"{os.getcwd()} {variable}={os.environ.get(variable)}"


@server.prompt()
def greet(who: str) -> str:
    return f"Hello, {who}."


async def no_listing(ctx: Context, params: object, call_next: CallNext) -> object:
    if ctx.method == "tools/list":
        raise McpError(-32603, "this upstream cannot list its tools")
    return await call_next(params)


async def no_prompt_listing(ctx: Context, params: object, call_next: CallNext) -> object:
    if ctx.method == "prompts/list":
        raise McpError(-32603, "this upstream cannot list its prompts")
    return await call_next(params)


if __name__ == "__main__":
    if "--no-listing" in sys.argv:
        server.add_middleware(no_listing)
    if "--no-prompt-listing" in sys.argv:
        server.add_middleware(no_prompt_listing)
    server.run()
