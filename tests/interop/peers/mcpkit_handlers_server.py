"""An mcpkit server using what issue 42 gave handlers, for the outside clients of
test_handler_features_interop.py: per-caller state, a result budget that pages its
overflow, a per-tool timeout, typed middleware hooks, a response cache and JSON-string
arguments, and keepalive pings on idle 2025-11-25 sessions. `mcpkit run` this file to
serve it over stdio (`server`); the test builds its
own with `make_server(auth=...)` and serves it over Streamable HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec

from mcpkit import Context, CurrentToken, McpError, RequestHeaders, Server
from mcpkit.protocol.codes import INVALID_PARAMS
from mcpkit.server import (
    DereferenceSchemas,
    ErrorTransform,
    KeepAlive,
    ResponseCache,
    ResultBudget,
    RetryTools,
    TypedMiddleware,
)
from mcpkit.server.middleware import (
    AnswerNext,
    CallToolNext,
    GetPromptNext,
    InitializeNext,
    ListNext,
    ReadResourceNext,
)
from mcpkit.types import (
    GetPromptResult,
    InitializeRequestParams,
    InitializeResult,
    ReadResourceResult,
    Tool,
    ToolAnnotations,
)

__all__ = ["ORDER", "REPORT", "STALL_TIMEOUT", "UNAVAILABLE", "make_server", "server"]

#: The text `report` returns: 3,000 bytes, past its 1,024-byte budget, so paged.
REPORT = "".join(f"line {n:03d}: the quick brown fox jumps\n" for n in range(75))
#: What `ErrorTransform` answers for `BackendDown`, in place of its text.
UNAVAILABLE = "The inventory is unavailable; try again later."
#: `place_order`'s input schema, with a `$ref` that `DereferenceSchemas` writes out.
ORDER = {
    "type": "object",
    "properties": {"ship_to": {"$ref": "#/$defs/Address"}},
    "required": ["ship_to"],
    "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
#: Seconds `stall` may run (it never ends by itself).
STALL_TIMEOUT = 0.2
#: Seconds a 2025-11-25 session may be quiet before it is pinged.
PING_EVERY = 0.1
#: Seconds `await_ping` waits for an answered ping (a bound, not a measurement).
PING_WAIT = 10.0


class BackendDown(Exception):
    """What the inventory raises, with a host and a user in its text."""


class Concierge(TypedMiddleware):
    """Tools named internal_* are neither listed nor callable; string arguments are trimmed;
    a 2025-11-25 client is welcomed by name in the instructions, a 2026-07-28 one that
    discovers the server in its discovery's."""

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        result = await call_next()
        welcome = f"Welcome, {params.client_info.name}"
        return msgspec.structs.replace(result, instructions=welcome)

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        return {**await call_next(), "instructions": "Welcome, discoverer"}

    async def on_read_resource(
        self, ctx: Context, uri: str, call_next: ReadResourceNext
    ) -> ReadResourceResult:
        # An alias, read as the resource it stands for.
        return await call_next("config://app" if uri == "config://current" else uri)

    async def on_get_prompt(
        self,
        ctx: Context,
        name: str,
        arguments: dict[str, str] | None,
        call_next: GetPromptNext,
    ) -> GetPromptResult:
        # Arguments trimmed, as a tool's are.
        trimmed = {k: v.strip() for k, v in (arguments or {}).items()}
        return await call_next(name, trimmed)

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        tools: list[Tool] = await call_next()
        return [tool for tool in tools if not tool.name.startswith("internal_")]

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        if name.startswith("internal_"):
            raise McpError(INVALID_PARAMS, f"Unknown tool: {name}")
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in arguments.items()}
        return await call_next(name, trimmed)


def make_server(*, approval_page: bool = False, **options: Any) -> Server:
    """The server; `options` go to `Server` (`auth=` for a protected one). With
    `approval_page`, a tool whose question goes to this server's approval page where the
    client cannot answer it (HTTP only: over stdio a server with one refuses to start)."""
    keepalive = KeepAlive(every=PING_EVERY, timeout=PING_WAIT, misses=None)
    server = Server(
        "handlers-interop",
        middleware=[
            keepalive,
            ErrorTransform({BackendDown: UNAVAILABLE}),
            RetryTools(retry_on=(ConnectionError,), attempts=3, backoff=0.01, budget=5.0),
            DereferenceSchemas(),
            Concierge(),
            ResponseCache(ttl=300, tools=["lookup"]),
            ResponseCache(ttl=300, scope="shared", tools=["digest"]),
        ],
        **options,
    )
    lookups = [0]
    attempts: dict[str, int] = {}
    stalls: dict[str, str] = {}

    @server.tool()
    async def count(ctx: Context) -> int:
        """Count this caller's calls, in its state."""
        seen: int = await ctx.get_state("calls", 0) + 1
        await ctx.set_state("calls", seen)
        return seen

    @server.tool()
    def lookup(topic: str) -> str:
        """A look-up the cache answers when asked again: says how many ran before it."""
        lookups[0] += 1
        return f"{topic}: run {lookups[0]}"

    @server.tool(max_result=ResultBudget(bytes=1024, overflow="paginate"))
    def report() -> str:
        """A report past its budget: the rest is paged into resources."""
        return REPORT

    @server.tool(max_result=ResultBudget(bytes=1024, overflow="resource"))
    def digest() -> str:
        """The same for everyone (so cached shared), past its budget: its rest is linked."""
        return REPORT

    @server.tool(timeout=STALL_TIMEOUT)
    async def stall(tag: str) -> str:
        """Never ends by itself: its timeout cancels it, which it records under `tag`."""
        stalls[tag] = "running"
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stalls[tag] = "cancelled"
            raise
        return "finished"

    @server.tool()
    def stall_outcome(tag: str) -> str:
        """What became of the `stall` call tagged `tag`."""
        return stalls.get(tag, "never called")

    @server.tool()
    async def await_ping() -> str:
        """Wait, bounded, until a client answers a keepalive ping: this call's session is
        quiet while it waits (no other session is, in the test's plan at that point)."""
        before = keepalive.answered
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PING_WAIT):
                while keepalive.answered == before:  # (KeepAlive offers counts, no event)
                    await asyncio.sleep(PING_EVERY / 2)
        return "answered" if keepalive.answered > before else "no ping answered"

    @server.tool()
    def inventory(sku: str) -> int:
        """Fails with a text that must not reach the client."""
        raise BackendDown(f"db01.internal refused user=inventory for {sku}")

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True))
    def flaky(tag: str) -> str:
        """Fails twice with ConnectionError (per tag), then answers: RetryTools retries it."""
        attempts[tag] = attempts.get(tag, 0) + 1
        if attempts[tag] < 3:
            raise ConnectionError("the backend reset the connection")
        return f"answered on attempt {attempts[tag]}"

    @server.tool(input_schema=ORDER)
    def place_order(**order: Any) -> str:
        """A schema given as it is, with a `$ref`."""
        return f"shipping to {order['ship_to']['city']}"

    @server.tool(headers={"region": "Region"})
    def route(region: str, headers: RequestHeaders) -> str:
        """An argument a 2026-07-28 client mirrors into `Mcp-Param-Region` (x-mcp-header)."""
        return f"routed to {region}; header {headers.get('mcp-param-region', 'absent')}"

    @server.tool(when_cannot_ask="confirm")
    async def remove_note(path: str, ctx: Context) -> str:
        """Asks the user first; a client that cannot ask has the model confirm instead."""
        answer = await ctx.elicit(f"Remove {path}?", bool)
        if answer.action != "accept" or not answer.data:
            return f"Kept {path}"
        return f"Removed {path}"

    if approval_page:

        @server.tool(when_cannot_ask="url")
        async def publish_note(path: str, ctx: Context) -> str:
            """Asks the user first; a client that cannot ask gets a link to approve it."""
            answer = await ctx.elicit(f"Publish {path} on the web?", bool)
            if answer.action != "accept" or not answer.data:
                return f"Did not publish {path}"
            return f"Published {path}"

    @server.resource("config://app", mime_type="application/json")
    def config() -> str:
        return '{"debug": false}'

    @server.prompt()
    def review(code: str) -> str:
        return f"Please review this code:\n{code}"

    @server.tool()
    def greet(name: str) -> str:
        return f"Hello, {name}"

    @server.tool()
    def internal_reset() -> str:
        return "reset"

    @server.tool()
    def area(size: dict[str, float]) -> float:
        """An object argument, which many clients send as a JSON string."""
        return size["width"] * size["height"]

    @server.tool()
    def total(values: list[float]) -> float:
        """An array argument, which many clients send as a JSON string."""
        return sum(values)

    @server.tool()
    def caller(token: CurrentToken, headers: RequestHeaders) -> str:
        """What dependency injection hands a handler: the token's owner, and the request's
        headers (the revision the client names in them; never the Authorization header)."""
        who = token.subject if token is not None else "nobody"
        named = headers.get("mcp-protocol-version", "no header")
        return (
            f"{who}; {named}; authorization {'shown' if 'authorization' in headers else 'hidden'}"
        )

    return server


server = make_server()
