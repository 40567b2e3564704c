"""What the checks of a server's 2026-07-28 POSTs consult and remember (`MirrorMemos`) is the
server's: every app it builds shares it, another server in the same process has its own, so
neither sees the other's tools or the values its clients sent; and each memo is bounded."""

from __future__ import annotations

from typing import Any

import msgspec
from _inprocess import asgi_request, body_of
from _serving import headers

from mcpkit import Server
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.mirror_memos import MirrorMemos

REVISION = "2026-07-28"


def call(name: str, arguments: dict[str, Any]) -> bytes:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    params = {"name": name, "arguments": arguments, "_meta": meta}
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    )


def modern(name: str, **extra: str) -> dict[str, str]:
    return headers(
        **{"mcp-protocol-version": REVISION, "mcp-method": "tools/call", "mcp-name": name},
        host="127.0.0.1",
        **extra,
    )


def server(name: str, mirrored: bool) -> Server:
    """A server whose `query` tool mirrors its `region` argument into a header, or not."""
    made = Server(name)

    @made.tool(headers={"region": "Region"} if mirrored else None)
    def query(region: str) -> str:
        """Run a query in a region."""
        return f"{name} in {region}"

    @made.tool(name=f"{name}_only")
    def only() -> str:
        return name

    return made


def memos_of(app: McpHttpApp) -> MirrorMemos:
    return app.post.mirror_memos


async def answer(app: McpHttpApp, name: str, body: bytes, **extra: str) -> tuple[int, Any]:
    sent = await asgi_request(app, "POST", modern(name, **extra), body)
    return sent[0]["status"], msgspec.json.decode(body_of(sent))


async def test_each_server_has_its_own_and_its_apps_share_it() -> None:
    north, south = server("north", mirrored=True), server("south", mirrored=False)
    first, second = north.http_app(json_response=True), north.http_app()
    other = south.http_app(json_response=True)
    assert memos_of(first) is memos_of(second)
    assert memos_of(first) is not memos_of(other)
    assert (await answer(first, "north_only", call("north_only", {})))[0] == 200
    assert (await answer(other, "south_only", call("south_only", {})))[0] == 200
    assert b"north_only" in memos_of(first).names and b"south_only" not in memos_of(first).names
    assert b"south_only" in memos_of(other).names and b"north_only" not in memos_of(other).names
    # An app built apart from `http_app` has its own, with its server's tools.
    apart = McpHttpApp(south)
    assert memos_of(apart) is not memos_of(other) and not memos_of(apart).names


async def test_a_tools_mirrored_arguments_are_its_own_servers() -> None:
    """Two servers with a tool of one name: where it mirrors `region`, a call without the
    header is refused (-32020); where it does not, the same call is served, whichever server
    was called first."""
    north, south = server("north", mirrored=True), server("south", mirrored=False)
    for order in ((north, south), (south, north)):
        for made in order:
            app = made.http_app(json_response=True)
            status, found = await answer(app, "query", call("query", {"region": "eu"}))
            if made is north:
                assert (status, found["error"]["code"]) == (400, -32020)
                mirrored = {"mcp-param-region": "eu"}
                status, found = await answer(
                    app, "query", call("query", {"region": "eu"}), **mirrored
                )
            assert status == 200
            assert found["result"]["content"][0]["text"] == f"{made.name} in eu"


def test_each_memo_is_bounded() -> None:
    memos = MirrorMemos()
    for n in range(5000):
        value = b"value-%d" % n
        assert memos.text(b" " + value) == value.decode()
        assert memos.decode_value(value) == value.decode()
        memos.attrs_for(int, f"method/{n}")
    assert 0 < len(memos.texts) <= 256 and 0 < len(memos.names) <= 256
    assert 0 < len(memos.attrs) <= 1024
    assert memos.last_attrs == (int, "method/4999", None)


async def test_a_change_of_the_tools_is_seen_by_the_next_call() -> None:
    """Which tools mirror no argument is remembered (`plain_tools`) only while the tools stay
    as they were: a tool replaced by one that mirrors `region`, removed, hidden or added is
    checked as it now is on the very next call."""
    made = server("north", mirrored=False)
    app = made.http_app(json_response=True)
    memos = memos_of(app)
    body = call("query", {"region": "eu"})
    assert (await answer(app, "query", body))[0] == 200
    assert (await answer(app, "query", body))[0] == 200
    assert "query" in memos.plain_tools  # (the second call was checked from the memo)
    made.tools.remove("query")

    @made.tool(headers={"region": "Region"})
    def query(region: str) -> str:
        return f"mirrored {region}"

    status, found = await answer(app, "query", body)
    assert (status, found["error"]["code"]) == (400, -32020)
    assert "query" not in memos.plain_tools
    status, found = await answer(app, "query", body, **{"mcp-param-region": "eu"})
    assert (status, found["result"]["content"][0]["text"]) == (200, "mirrored eu")
    # Removed: the call is answered as any call of an unknown tool, not by what was mirrored.
    made.tools.remove("query")
    status, found = await answer(app, "query", body)
    assert (status, found["error"]) == (400, {"code": -32602, "message": "Unknown tool: query"})
    # Added back without mirrored arguments: served without the header again.

    @made.tool(name="query")
    def plain_query(region: str) -> str:
        return f"plain {region}"

    status, found = await answer(app, "query", body)
    assert (status, found["result"]["content"][0]["text"]) == (200, "plain eu")
    assert "query" in memos.plain_tools
    # Hidden, then shown as a mirroring tool of a mounted server under the same name.
    made.disable("query")
    status, found = await answer(app, "query", body)
    assert (status, found["error"]) == (400, {"code": -32602, "message": "Unknown tool: query"})
    assert "query" not in memos.plain_tools
    made.tools.remove("query")
    made.mount(server("inner", mirrored=True), "inner")
    status, found = await answer(app, "inner_query", call("inner_query", {"region": "eu"}))
    assert (status, found["error"]["code"]) == (400, -32020)


async def test_the_plain_tools_memo_holds_only_tools_the_server_has() -> None:
    """A peer naming a new tool in every call adds nothing to `plain_tools` (each is refused
    as an unknown tool); what it holds is bounded by the server's own tools."""
    made = server("north", mirrored=False)
    app = made.http_app(json_response=True)
    memos = memos_of(app)
    for n in range(300):
        name = f"no-such-tool-{n}"
        status, found = await answer(app, name, call(name, {}))
        assert (status, found["error"]["code"]) == (400, -32602)
    assert not memos.plain_tools
    for name in ("query", "north_only"):
        await answer(app, name, call(name, {"region": "eu"}))
    assert memos.plain_tools == {"query", "north_only"}


def test_without_a_count_of_changes_param_headers_is_asked_each_time() -> None:
    """Memos given no count of the tools' changes (an app built around a host without one)
    remember no tool: `param_headers` is asked on every call."""
    asked: list[str] = []

    def param_headers(name: str) -> dict[str, tuple[str, ...]] | None:
        asked.append(name)
        return {}

    memos = MirrorMemos(param_headers)
    assert memos.mirrors_none("query") and memos.mirrors_none("query")
    assert asked == ["query", "query"] and not memos.plain_tools
