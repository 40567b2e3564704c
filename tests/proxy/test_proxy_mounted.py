"""A `ProxyServer` mounted in a front server under a namespace, end to end in both eras: the
front's client lists the upstream's tools, prompts and resources under the prefix, and a call
reports the upstream's progress, passes its elicitation to the client and back, and is
cancelled upstream when the client cancels it."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer
from mcpkit.types import ElicitRequestParams, ElicitResult, TextContent

ERAS = ["2025-11-25", "2026-07-28"]
REPO = Path(__file__).resolve().parents[2]


class Upstream:
    """The proxied server: a tool that reports progress and asks, one that runs until
    cancelled, a prompt and a resource."""

    def __init__(self) -> None:
        self.server = Server("upstream")
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        server = self.server

        @server.tool()
        async def paint(wall: str, ctx: Context) -> str:
            """Paint a wall, asking which colour."""
            await ctx.progress(1, total=2, message="primed")
            colour = await ctx.elicit(f"Which colour for {wall}?", ["red", "green"])
            if colour.action != "accept":
                return f"{wall}: not painted ({colour.action})"
            await ctx.progress(2, total=2, message="painted")
            return f"{wall}: {colour.data}"

        @server.tool()
        async def dry(ctx: Context) -> str:
            """Wait for the paint to dry (until cancelled)."""
            await ctx.progress(1, total=10, message="drying")
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return "dry"

        @server.prompt()
        def advice(room: str) -> str:
            return f"Paint the {room} in daylight."

        @server.resource("paint://stock")
        def stock() -> str:
            return "red: 3, green: 1"


def front_with(upstream: Upstream) -> Server:
    front = Server("front")

    @front.tool()
    def hello() -> str:
        return "hello from the front"

    front.mount(ProxyServer(upstream.server), namespace="up")
    return front


def _text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_mounted_proxy_shows_the_upstream_under_its_namespace(protocol: str) -> None:
    front = front_with(Upstream())
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        assert {t.name for t in await client.list_tools()} == {"hello", "up_paint", "up_dry"}
        paint = next(t for t in await client.list_tools() if t.name == "up_paint")
        assert paint.description == "Paint a wall, asking which colour."
        assert "wall" in paint.input_schema["properties"]
        got = await client.get_prompt("up_advice", {"room": "hall"})
        assert got.messages[0].content.text == "Paint the hall in daylight."  # type: ignore[union-attr]
        assert "paint://up/stock" in {r.uri for r in await client.list_resources()}
        read = await client.read_resource("paint://up/stock")
        assert read.contents[0].text == "red: 3, green: 1"  # type: ignore[union-attr]
        assert read.contents[0].uri == "paint://up/stock"
        assert _text(await client.call_tool("hello")) == "hello from the front"


@pytest.mark.parametrize("protocol", ERAS)
async def test_progress_and_elicitation_pass_through_a_mounted_proxy(protocol: str) -> None:
    front = front_with(Upstream())
    progress: list[tuple[float, float | None, str | None]] = []
    asked: list[str] = []

    def user(params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        assert params.requested_schema["properties"]["value"]["enum"] == ["red", "green"]  # type: ignore[union-attr]
        return ElicitResult(action="accept", content={"value": "green"})

    async with (
        asyncio.timeout(20),
        Client(front, protocol=protocol, elicitation_handler=user) as client,
    ):
        result = await client.call_tool(
            "up_paint", {"wall": "north"}, progress=lambda p, t, m: progress.append((p, t, m))
        )
    assert result.is_error is not True, result
    assert _text(result) == "north: green"
    assert asked and set(asked) == {"Which colour for north?"}
    assert progress[-1] == (2, 2, "painted") and (1, 2, "primed") in progress


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_declined_elicitation_reaches_the_upstream_tool(protocol: str) -> None:
    front = front_with(Upstream())

    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="decline")

    client = Client(front, protocol=protocol, elicitation_handler=user)
    async with asyncio.timeout(20), client:
        result = await client.call_tool("up_paint", {"wall": "east"})
    assert _text(result) == "east: not painted (decline)"


@pytest.mark.parametrize("protocol", ERAS)
async def test_cancelling_a_call_cancels_it_upstream(protocol: str) -> None:
    upstream = Upstream()
    front = front_with(upstream)
    progressed = asyncio.Event()
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        call = asyncio.create_task(
            client.call_tool("up_dry", progress=lambda p, t, m: progressed.set())
        )
        await upstream.started.wait()
        await progressed.wait()  # the upstream's progress reached the front's client
        call.cancel()
        await upstream.cancelled.wait()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert _text(await client.call_tool("hello")) == "hello from the front"


async def test_the_upstreams_list_changes_reach_the_fronts_clients() -> None:
    upstream = Upstream()
    front = front_with(upstream)
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            changed.set()

    client = Client(front, protocol="2025-11-25", on_notification=on_notification)
    async with asyncio.timeout(20), client:
        assert "up_varnish" not in {t.name for t in await client.list_tools()}
        upstream.server.add_tool(lambda: "varnished", name="varnish")
        upstream.server.remove_tool("dry")
        while True:  # one announcement per change at most; the last leaves both done
            await changed.wait()
            changed.clear()
            names = {t.name for t in await client.list_tools()}
            if "up_varnish" in names and "up_dry" not in names:
                break
        assert _text(await client.call_tool("up_varnish")) == "varnished"


async def test_the_docs_example_serves_what_the_text_says(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = REPO / "docs" / "proxy.md"
    section = doc.read_text().split("## Mounting a proxy", 1)[1]
    block = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    monkeypatch.chdir(REPO)  # the example names examples/everything.py from the checkout
    namespace: dict[str, Any] = {"__name__": "docs_proxy"}
    exec(compile(block, str(doc), "exec"), namespace)  # our own docs, as a reader runs them
    async with asyncio.timeout(30), Client(namespace["front"]) as client:
        names = {t.name for t in await client.list_tools()}
        assert {"status", "everything_add", "everything_slow"} <= names
        assert "config://everything/app" in {r.uri for r in await client.list_resources()}
        added = await client.call_tool("everything_add", {"a": 2, "b": 3})
        assert added.structured_content == {"result": 5}
        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert "notes://everything/{name}" in templates
        todo = await client.read_resource("notes://everything/todo")
        assert (todo.contents[0].uri, todo.contents[0].text) == (  # type: ignore[union-attr]
            "notes://everything/todo",
            "Write docs.",
        )
        names = await client.complete({"template": "notes://everything/{name}"}, "name", "w")
        assert names.completion.values == ["welcome"]
        language = await client.complete({"prompt": "everything_review"}, "language", "r")
        assert language.completion.values == ["rust"]


async def test_an_upstream_tool_with_a_name_tools_may_not_have_is_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = Upstream()
    front = front_with(upstream)
    real_list = upstream.server.tools.items

    def with_a_bad_name() -> list[Any]:  # as a server of another SDK might list one
        items = real_list()
        bad = msgspec.structs.replace(items[0].wire, name="paint it/black")
        return [*items, dataclasses.replace(items[0], name="paint it/black", wire=bad)]

    upstream.server.tools.items = with_a_bad_name  # type: ignore[method-assign]
    async with asyncio.timeout(20), Client(front) as client:
        assert {t.name for t in await client.list_tools()} == {"hello", "up_paint", "up_dry"}
    assert "invalid tool name 'paint it/black'" in caplog.text


@pytest.mark.parametrize("protocol", ERAS)
async def test_over_http_from_the_client_to_the_upstream(protocol: str) -> None:
    """The front served over Streamable HTTP, proxying an upstream served over it too."""
    upstream = Upstream()
    progress: list[float] = []
    progressed = asyncio.Event()

    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"value": "red"})

    def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)
        progressed.set()

    async with serving(upstream.server.http_app()) as upstream_base:
        front = Server("front")
        front.mount(ProxyServer(upstream_base + "/mcp"), namespace="up")
        async with serving(front.http_app()) as front_base:
            client = Client(front_base + "/mcp", protocol=protocol, elicitation_handler=user)
            async with asyncio.timeout(30), client:
                result = await client.call_tool("up_paint", {"wall": "west"}, progress=on_progress)
                assert _text(result) == "west: red" and progress[-1] == 2
                progressed.clear()
                call = asyncio.create_task(client.call_tool("up_dry", progress=on_progress))
                await upstream.started.wait()
                await progressed.wait()
                call.cancel()
                await upstream.cancelled.wait()
