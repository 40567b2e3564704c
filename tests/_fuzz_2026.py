"""What the 2026-07-28 fuzz tests share: a server with a tool of each kind, and requests
that carry their own terms in `_meta`, each part fuzzed one draw in eight, so that many
examples pass every check before the part fuzzed and reach the code behind it. Over HTTP:
tests/http/test_http_fuzz_2026.py; on one connection, as stdio carries them:
tests/server/test_fuzz_modern.py."""

from __future__ import annotations

from typing import Any

from _strategies import json_values
from hypothesis import strategies as st

from mcpkit import Context, Server

__all__ = ["META", "METHODS", "NAME", "REVISION", "make_server", "mostly", "requests"]

REVISION = "2026-07-28"
META = "io.modelcontextprotocol/"
NAME = {"type": "object", "properties": {"n": {"type": "string"}}}


def make_server() -> Server:
    server = Server("fuzzed-2026", "1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(headers={"region": "Region"})
    def query(region: str, text: str = "") -> str:
        return f"{text} in {region}"

    @server.tool()
    async def steps(count: int, ctx: Context) -> str:
        for done in range(min(count, 3)):
            await ctx.progress(done + 1, count)
        return f"{count} steps"

    @server.tool()
    async def greet(ctx: Context) -> str:
        answer = await ctx.elicit("Name?", NAME)
        return f"hello {answer.data['n'] if answer.data else '?'}"

    @server.tool(task=True)
    async def later(n: int) -> int:
        return n

    @server.tool(task=True)
    async def ask_later(ctx: Context) -> str:
        answer = await ctx.elicit("Name?", NAME)  # waits for tasks/update
        return f"hello {answer.data['n'] if answer.data else '?'}"

    @server.resource("notes://one")
    def note() -> str:
        return "one"

    return server


METHODS = [
    "tools/call",
    "tools/list",
    "resources/read",
    "resources/list",
    "prompts/list",
    "server/discover",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "initialize",
    "ping",
    "logging/setLevel",
    "no/such",
]


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` seven draws in eight: so that many examples pass every check before the part
    fuzzed, and reach the code behind them."""
    return st.sampled_from([True] * 7 + [False]).flatmap(lambda ok: good if ok else bad)


capabilities = mostly(st.sampled_from([{"elicitation": {}}, {}]), json_values)
versions = mostly(st.just(REVISION), st.sampled_from(["2025-11-25", "2099-01-01"]) | json_values)
terms = {
    META + "protocolVersion": versions,
    META + "clientCapabilities": capabilities,
}
extras = {
    META + "clientInfo": mostly(st.just({"name": "fuzz", "version": "1"}), json_values),
    META + "logLevel": st.sampled_from(["debug", "error", "loud"]) | json_values,
    "progressToken": st.integers(0, 3) | st.text(max_size=3) | json_values,
}
metas = mostly(
    st.fixed_dictionaries(terms, optional=extras),
    st.fixed_dictionaries({}, optional=terms | extras),  # terms missing, or some of them
)
params = st.fixed_dictionaries(
    {"_meta": metas},
    optional={
        "name": mostly(
            st.sampled_from(["add", "query", "steps", "greet", "later", "ask_later", "nope"]),
            json_values,
        ),
        "arguments": mostly(
            st.dictionaries(
                st.sampled_from(["a", "b", "count", "region", "text", "n"]),
                mostly(st.integers(-2, 4), st.text(max_size=3) | json_values),
            ),
            json_values,
        ),
        "uri": st.sampled_from(["notes://one", "nope://x", ""]) | json_values,
        "taskId": st.text(max_size=8) | json_values,
        "requestState": st.text(max_size=40) | json_values,
        "inputResponses": st.dictionaries(st.sampled_from(["q1", "q2", "x"]), json_values)
        | json_values,
        "filter": json_values,
        "cursor": st.text(max_size=6) | json_values,
    },
)
ids = mostly(st.integers(-2, 9) | st.text(max_size=3), json_values)
requests = mostly(
    st.fixed_dictionaries(
        {"jsonrpc": st.just("2.0"), "id": ids, "method": st.sampled_from(METHODS), "params": params}
    ),
    st.fixed_dictionaries(  # a notification, or a request without params
        {"jsonrpc": st.just("2.0"), "method": st.sampled_from(METHODS)},
        optional={"id": ids},
    ),
)
