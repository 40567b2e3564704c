"""What one proxied session carries beyond the example's features: the upstream's facts at
initialize (its revision too), pagination, the upstream cancelling its own request to the
client, roots changes passed up, middleware around forwarded requests, and the classic use:
a stdio server on the network behind our HTTP stack and its authorization."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpx
import pytest
from _proxying import WAIT, everything_command
from _serving import INITIALIZE, headers, messages_of, serving

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken, McpError
from mcpkit.proxy import ProxyServer
from mcpkit.server.middleware import CallNext
from mcpkit.testing import raw_session
from mcpkit.types import CreateMessageResult, Root, TextContent

# The session proxy of 2025-11-25 (one upstream session per client session): the client is
# pinned to that revision. tests/proxy/test_proxy_2026.py covers 2026-07-28 clients.
Client = functools.partial(Client, protocol="2025-11-25")


def _many_tools(count: int) -> Server:
    upstream = Server("many", page_size=2, instructions="use t0 first")
    for n in range(count):
        upstream.add_tool(lambda: "ok", name=f"t{n}", description=f"tool {n}")
    return upstream


async def test_initialize_answers_with_the_upstream_s_facts_and_pages_pass_through() -> None:
    async with asyncio.timeout(WAIT), Client(ProxyServer(_many_tools(5))) as client:
        assert client.server_info.name == "many"
        assert client.instructions == "use t0 first"
        page = await client.list_tools_page()
        assert [t.name for t in page.tools] == ["t0", "t1"]
        assert page.next_cursor is not None  # the upstream's own cursor, passed as it is
        assert [t.name for t in await client.list_tools()] == [f"t{n}" for n in range(5)]
        with pytest.raises(McpError) as refused:
            await client.list_tools_page(cursor="not-a-cursor")
        assert refused.value.code == -32602  # the upstream's refusal, passed down


async def test_an_older_client_gets_the_revision_both_ends_speak() -> None:
    proxy = ProxyServer(_many_tools(1))
    async with asyncio.timeout(WAIT), Client(proxy, protocol_version="2025-03-26") as client:
        assert client.protocol_version == "2025-03-26"
        (link,) = proxy.links.values()
        assert link.connection is not None
        assert link.connection.session.revision == "2025-03-26"
        assert [t.name for t in await client.list_tools()] == ["t0"]


async def test_the_upstream_cancelling_its_sampling_request_cancels_the_client_s() -> None:
    upstream = Server("asks")

    @upstream.tool()
    async def ask(ctx: Context) -> str:
        try:
            await ctx.sample("anything?", timeout=0.2)
        except McpError as exc:
            return f"gave up: {exc.code}"
        return "answered"

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def sample(params: Any) -> CreateMessageResult:
        started.set()
        try:
            await asyncio.Event().wait()  # a person who never answers
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    proxy = ProxyServer(upstream)
    async with asyncio.timeout(WAIT), Client(proxy, sampling_handler=sample) as client:
        result = await client.call_tool("ask")
        assert result.content[0].text == "gave up: -32001"  # type: ignore[union-attr]
        await cancelled.wait()  # its notifications/cancelled reached the client


async def test_roots_changes_reach_the_upstream_and_its_roots_request_the_client() -> None:
    upstream = Server("roots")
    changed = asyncio.Event()

    async def on_change(handle: Any) -> None:
        changed.set()

    upstream.on_roots_changed = on_change

    @upstream.tool()
    async def where(ctx: Context) -> list[str]:
        return [root.uri for root in await ctx.list_roots()]

    roots = [Root(uri="file:///a")]
    proxy = ProxyServer(upstream)
    async with asyncio.timeout(WAIT), Client(proxy, roots=lambda: roots) as client:
        assert (await client.call_tool("where")).structured_content == {"result": ["file:///a"]}
        roots.append(Root(uri="file:///b"))
        await client.send_roots_list_changed()
        await changed.wait()
        result = await client.call_tool("where")
        assert result.structured_content == {"result": ["file:///a", "file:///b"]}


async def test_middleware_wraps_forwarded_requests() -> None:
    seen: list[tuple[str, Any]] = []

    async def record(ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        seen.append((ctx.method, getattr(params, "name", None)))
        if ctx.method == "tools/call":
            result.content = [TextContent(text="changed by the proxy")]
        return result

    proxy = ProxyServer(_many_tools(1), middleware=[record])
    async with asyncio.timeout(WAIT), Client(proxy) as client:
        result = await client.call_tool("t0")
        assert result.content[0].text == "changed by the proxy"  # type: ignore[union-attr]
    assert seen == [("tools/call", "t0")]


class _Tokens:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if token != "good-token":
            raise InvalidToken("the token is unknown or expired")
        return AccessToken(subject="alice", client_id="app", scopes=frozenset({"mcp"}))


async def test_a_stdio_server_on_the_network_behind_our_authorization() -> None:
    auth = ProtectedResource(verifier=_Tokens(), required_scopes=["mcp"])
    proxy = ProxyServer(everything_command(), stderr="devnull", auth=auth)
    async with serving(proxy.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        url = base + "/mcp"
        refused = await http.post(url, json=INITIALIZE, headers=headers())
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert proxy.links == {}  # no upstream process for a caller we refused
        wrong = await http.post(
            url, json=INITIALIZE, headers=headers(authorization="Bearer stolen")
        )
        assert wrong.status_code == 401
        good = {"Authorization": "Bearer good-token"}
        async with asyncio.timeout(WAIT), Client(url, headers=good) as client:
            result = await client.call_tool("add", {"a": 20, "b": 22})
            assert result.structured_content == {"result": 42}
            assert client.server_info.name == "everything"


async def test_raw_initialize_over_http_carries_the_upstream_s_answer() -> None:
    proxy = ProxyServer(_many_tools(1))
    async with serving(proxy.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.post(base + "/mcp", json=INITIALIZE, headers=headers())
        assert response.status_code == 200
        assert response.headers.get("mcp-session-id")
        (answer,) = messages_of(response)
        assert answer["result"]["serverInfo"]["name"] == "many"
        assert answer["result"]["instructions"] == "use t0 first"
        assert "tasks" not in answer["result"]["capabilities"]


async def test_an_upstream_s_tasks_are_declared_and_its_optional_ones_called_plainly() -> None:
    upstream = Server("tasks")

    @upstream.tool(task=True)
    async def work() -> str:
        return "worked"

    async with asyncio.timeout(WAIT), Client(ProxyServer(upstream)) as client:
        assert client.server_capabilities.tasks is not None  # test_proxy_tasks.py has more
        assert (await client.call_tool("work")).content[0].text == "worked"  # type: ignore[union-attr]


async def test_the_clients_progress_on_an_upstream_request_goes_up() -> None:
    """The upstream asks for sampling with a progressToken: the client sees the proxy's own
    token, and its progress reaches the upstream under the upstream's."""
    seen: list[float] = []
    server = Server("asks-with-progress")

    @server.tool
    async def ask(ctx: Context) -> str:
        params = {
            "messages": [{"role": "user", "content": {"type": "text", "text": "q"}}],
            "maxTokens": 5,
        }
        result = await ctx.session.request(
            "sampling/createMessage", params, on_progress=lambda p, t, m: seen.append(p)
        )
        return str(result.content.text)

    async with raw_session(ProxyServer(server), capabilities={"sampling": {}}) as peer:
        await peer.send(
            {"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {"name": "ask"}}
        )
        request = await peer.receive()
        assert request["method"] == "sampling/createMessage"
        token = request["params"]["_meta"]["progressToken"]
        for step in (1, 2):
            await peer.send(
                {
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": step, "total": 2},
                }
            )
        answer = {"role": "assistant", "content": {"type": "text", "text": "a"}, "model": "m"}
        await peer.send({"jsonrpc": "2.0", "id": request["id"], "result": answer})
        reply = await peer.response_to("c")
    assert reply["result"]["content"][0]["text"] == "a"
    assert seen == [1, 2]
