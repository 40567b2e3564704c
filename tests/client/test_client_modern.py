"""The client speaking the modern revision (2026-07-28) to a fake server of it, and falling
back to `initialize` for a server that does not: `_meta` on every request, server/discover,
multi round-trip requests, the log level, `ttlMs`, `subscriptions/listen`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _modern_fakes import FakeLegacyServer, FakeModernServer

from mcpkit import Client
from mcpkit.client import era
from mcpkit.client.discover import ModernRefused
from mcpkit.errors import McpError
from mcpkit.types import CreateMessageResult, ElicitResult, Root, TextContent

META = "io.modelcontextprotocol/"


async def test_auto_speaks_2026_after_discover_and_every_request_carries_meta() -> None:
    server = FakeModernServer(
        handlers={"tools/call": _echo_tool}, capabilities={"tools": {"listChanged": False}}
    )
    async with Client(server.open, name="probe", version="9", roots=[]) as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_info.name == "fake"
        assert client.server_capabilities.tools is not None
        assert client.discovered is not None
        result = await client.call_tool("echo", {"x": 1})
        assert result.text == "ok"
    assert server.methods() == ["server/discover", "tools/call"]
    for _, params in server.requests:
        meta = params["_meta"]
        assert meta[META + "protocolVersion"] == "2026-07-28"
        assert meta[META + "clientInfo"] == {"name": "probe", "version": "9"}
        # (and the tasks extension: a call the server runs as a task is followed to its end)
        assert meta[META + "clientCapabilities"] == {
            "roots": {"listChanged": True},
            "extensions": {"io.modelcontextprotocol/tasks": {}},
        }
        assert META + "logLevel" not in meta


async def test_a_legacy_server_gets_initialize_after_its_discover_error() -> None:
    server = FakeLegacyServer()
    async with Client(server.open) as client:
        assert client.protocol_version == "2025-11-25"
        assert client.discovered is None
        await client.list_tools()
    assert server.methods[:3] == ["server/discover", "initialize", "notifications/initialized"]


async def test_pinned_eras_send_only_their_opening() -> None:
    legacy = FakeLegacyServer()
    async with Client(legacy.open, protocol="2025-11-25") as client:
        assert client.protocol_version == "2025-11-25"
    assert "server/discover" not in legacy.methods
    modern = FakeModernServer()
    async with Client(modern.open, protocol="2026-07-28") as client:
        await client.list_tools()
    assert "initialize" not in modern.methods()
    with pytest.raises(ModernRefused, match="does not speak 2026-07-28"):
        async with Client(FakeLegacyServer().open, protocol="2026-07-28"):
            pass


async def test_an_unsupported_version_error_that_lists_ours_is_retried() -> None:
    server = FakeModernServer()
    first = True
    original = server.answer

    async def refuse_once(message: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal first
        if first:
            first = False
            server.requests.append((message["method"], message["params"]))
            data = {"supported": ["2026-07-28"], "requested": "2026-07-28"}
            error = {"code": -32022, "message": "Unsupported protocol version", "data": data}
            return {"jsonrpc": "2.0", "id": message["id"], "error": error}
        return await original(message)

    server.answer = refuse_once  # type: ignore[method-assign]
    async with Client(server.open) as client:
        assert client.protocol_version == "2026-07-28"
    assert server.methods() == ["server/discover", "server/discover"]


async def _echo_tool(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": "ok"}]}


async def _mrtr_tool(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
    """Asks for an elicitation, a sampling and the roots, then for more state, then answers."""
    responses = params.get("inputResponses")
    state = params.get("requestState")
    if responses is None and state is None:
        return {
            "resultType": "input_required",
            "inputRequests": {
                "who": {
                    "method": "elicitation/create",
                    "params": {
                        "message": "Name?",
                        "requestedSchema": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}},
                        },
                    },
                },
                "llm": {
                    "method": "sampling/createMessage",
                    "params": {
                        "messages": [{"role": "user", "content": {"type": "text", "text": "2+2"}}],
                        "maxTokens": 5,
                    },
                },
                "dirs": {"method": "roots/list"},
            },
            "requestState": "opaque-1",
        }
    if state == "opaque-1":
        assert responses is not None
        name = responses["who"]["content"]["name"]
        said = responses["llm"]["content"]["text"]
        roots = [root["uri"] for root in responses["dirs"]["roots"]]
        return {"resultType": "input_required", "requestState": f"{name}|{said}|{roots[0]}"}
    assert "inputResponses" not in params  # the second round asked for nothing
    return {"content": [{"type": "text", "text": state}]}


async def test_input_required_is_answered_by_the_handlers_and_the_request_retried() -> None:
    server = FakeModernServer(handlers={"tools/call": _mrtr_tool})

    def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "ada"})

    def sample(params: Any) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="4"), model="m")

    async with Client(
        server.open,
        elicitation_handler=elicit,
        sampling_handler=sample,
        roots=[Root(uri="file:///w")],
    ) as client:
        result = await client.call_tool("ask", {"q": 1})
    assert result.text == "ada|4|file:///w"
    calls = [params for method, params in server.requests if method == "tools/call"]
    assert len(calls) == 3
    assert all(call["name"] == "ask" and call["arguments"] == {"q": 1} for call in calls)
    assert "requestState" not in calls[0] and "inputResponses" not in calls[0]
    assert calls[1]["requestState"] == "opaque-1"
    assert calls[2]["requestState"] == "ada|4|file:///w"


async def test_input_rounds_are_bounded() -> None:
    async def forever(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
        return {"resultType": "input_required", "requestState": "again"}

    server = FakeModernServer(handlers={"tools/call": forever})
    async with Client(server.open, max_input_rounds=2) as client:
        with pytest.raises(McpError, match="after 2 rounds"):
            await client.call_tool("loop")
    assert server.methods().count("tools/call") == 3


async def test_a_result_without_result_type_is_complete() -> None:
    async def bare(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "plain"}]}

    server = FakeModernServer(handlers={"prompts/get": bare})

    async def no_type(message: dict[str, Any]) -> dict[str, Any] | None:
        reply = await FakeModernServer.answer(server, message)
        if reply is not None and "result" in reply:
            reply["result"].pop("resultType", None)
        return reply

    server.answer = no_type  # type: ignore[method-assign]
    async with Client(server.open) as client:
        await client.list_tools()
    assert server.methods() == ["server/discover", "tools/list"]


async def test_the_log_level_rides_on_each_request_and_ping_is_discover() -> None:
    server = FakeModernServer()
    async with Client(server.open) as client:
        await client.set_logging_level("warning")
        await client.ping()
        await client.list_tools()
    assert server.methods() == ["server/discover", "server/discover", "tools/list"]
    assert server.requests[-1][1]["_meta"][META + "logLevel"] == "warning"


async def test_a_list_is_reused_until_its_ttl_passes_or_it_changes() -> None:
    tools = [{"name": "t", "inputSchema": {"type": "object"}}]
    server = FakeModernServer(tools=tools, ttl_ms=60_000)
    async with Client(server.open) as client:
        assert client._modern is not None
        now = [0.0]
        client._modern.clock = lambda: now[0]
        assert [t.name for t in await client.list_tools()] == ["t"]
        await client.list_tools()
        assert server.methods().count("tools/list") == 1
        now[0] = 61.0  # past the ttl
        await client.list_tools()
        assert server.methods().count("tools/list") == 2
        await server.notify("notifications/tools/list_changed", {})
        await _until(lambda: not client._modern or not client._modern._cached)
        await client.list_tools()
        assert server.methods().count("tools/list") == 3


async def test_subscribe_opens_a_listen_stream_with_the_uri() -> None:
    listens: list[dict[str, Any]] = []
    ended = asyncio.Event()

    async def listen(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
        listens.append(params["notifications"])
        ack = {"_meta": {META + "subscriptionId": 0}, "notifications": params["notifications"]}
        await server.notify("notifications/subscriptions/acknowledged", ack)
        await server.notify("notifications/resources/updated", {"uri": "file:///a"})
        await ended.wait()
        return {}

    heard: list[tuple[str, Any]] = []

    async def on_notification(method: str, params: Any) -> None:
        heard.append((method, params))

    server = FakeModernServer(handlers={"subscriptions/listen": listen})
    async with Client(server.open, on_notification=on_notification) as client:
        await client.subscribe("file:///a")
        assert listens == [{"resourceSubscriptions": ["file:///a"]}]
        await _until(lambda: any(m == "notifications/resources/updated" for m, _ in heard))
    ended.set()
    assert "resources/subscribe" not in server.methods()


async def test_a_subscription_the_server_refuses_raises_and_keeps_the_others() -> None:
    """A filter past the server's limits (-32602 naming the limit) fails `subscribe` loudly,
    and the stream of the subscriptions held before is opened again: none of them is lost."""
    from mcpkit import Server

    server = Server("notes")

    @server.resource("notes://today")
    def today() -> str:
        return "sunny"

    updated = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated" and params.uri == "notes://today":
            updated.set()

    async with Client(server, protocol="2026-07-28", on_notification=on_notification) as client:
        await client.subscribe("notes://today")
        with pytest.raises(McpError, match="MAX_LISTEN_ID_BYTES") as refused:
            await client.subscribe("notes://" + "x" * 5000)
        assert refused.value.code == -32602
        await server.notify_resource_updated("notes://today")
        await asyncio.wait_for(updated.wait(), 5)


async def _until(done: Any) -> None:
    async with asyncio.timeout(5):
        while not done():
            await asyncio.sleep(0.01)


# ------------------------------------------------------------------------ over HTTP


def _http_client(server: FakeModernServer, **options: Any) -> Client:
    import httpx

    from mcpkit.transports.http_client import StreamableHttpTransport

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=server.asgi))
    transport = StreamableHttpTransport("http://fake/mcp", http_client=http)
    return Client(transport, **options)


async def test_http_requests_carry_the_standard_and_parameter_headers() -> None:
    tools = [
        {
            "name": "q",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "region": {"type": "string", "x-mcp-header": "Region"},
                    "n": {"type": "integer", "x-mcp-header": "N"},
                    "deep": {
                        "type": "object",
                        "properties": {"on": {"type": "boolean", "x-mcp-header": "On"}},
                    },
                    "text": {"type": "string"},
                },
            },
        },
        {
            "name": "bad",
            "inputSchema": {
                "type": "object",
                "properties": {"x": {"type": "number", "x-mcp-header": "X"}},
            },
        },
    ]
    server = FakeModernServer(tools=tools, handlers={"tools/call": _echo_tool})
    async with _http_client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["q"]  # "bad" left out
        args = {"region": "Köln ", "n": 7, "deep": {"on": True}, "text": "no"}
        await client.call_tool("q", args)
        assert client.session_id is None
    discover, listing, call = server.headers
    assert discover["mcp-protocol-version"] == "2026-07-28"
    assert discover["mcp-method"] == "server/discover" and "mcp-name" not in discover
    assert listing["mcp-method"] == "tools/list"
    assert call["mcp-method"] == "tools/call" and call["mcp-name"] == "q"
    assert call["mcp-param-region"] == "=?base64?S8O2bG4g?="
    assert call["mcp-param-n"] == "7" and call["mcp-param-on"] == "true"
    assert not any(name.startswith("mcp-param-t") for name in call)
    assert all("mcp-session-id" not in headers for headers in server.headers)


async def test_http_unsupported_version_data_reaches_the_probe() -> None:
    server = FakeModernServer(supported=("2026-07-28",))
    seen: list[str] = []
    original = server.answer

    async def first_refused(message: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(message["method"])
        if len(seen) == 1:
            data = {"supported": ["2026-07-28"], "requested": "x"}
            error = {"code": -32022, "message": "Unsupported protocol version", "data": data}
            return {"jsonrpc": "2.0", "id": message["id"], "error": error}
        return await original(message)

    server.answer = first_refused  # type: ignore[method-assign]
    async with _http_client(server) as client:
        assert client.protocol_version == "2026-07-28"
    assert seen == ["server/discover", "server/discover"]


async def test_a_header_mismatch_lists_the_tools_again_and_retries_once() -> None:
    tools = [
        {
            "name": "q",
            "inputSchema": {
                "type": "object",
                "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
            },
        }
    ]
    refused = False

    async def call(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal refused
        if server.headers[-1].get("mcp-param-region") != params["arguments"]["region"]:
            refused = True
            raise HeaderMismatch
        return {"content": [{"type": "text", "text": "ok"}]}

    server = FakeModernServer(tools=tools, ttl_ms=60_000, handlers={"tools/call": call})
    async with _http_client(server) as client:
        assert (await client.call_tool("q", {"region": "eu"})).text == "ok"  # never listed
    assert refused
    assert server.methods() == ["server/discover", "tools/call", "tools/list", "tools/call"]


class HeaderMismatch(Exception):
    """Raised by a fake handler: answered -32020 (400) by `FakeModernServer`."""


async def test_an_unsupported_version_error_listing_only_older_revisions_falls_back() -> None:
    data = {"supported": ["2025-11-25"], "requested": "2026-07-28"}
    server = FakeLegacyServer({"code": -32022, "message": "Unsupported", "data": data})
    async with Client(server.open) as client:
        assert client.protocol_version == "2025-11-25"
    assert server.methods[:2] == ["server/discover", "initialize"]


async def test_a_listen_the_server_ends_is_opened_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """basic/patterns/subscriptions: the server holds no subscription across a reconnection;
    a client that still wants the notifications listens again (after a short delay)."""
    from mcpkit.client import listen as listen_module

    monkeypatch.setattr(listen_module, "RELISTEN_DELAY", 0.01)
    listens: list[dict[str, Any]] = []
    refusals = 0
    hold = asyncio.Event()

    async def listen(server: FakeModernServer, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal refusals
        listens.append(params["notifications"])
        if len(listens) == 2 and refusals == 0:
            refusals += 1
            raise RuntimeError("the server is busy")  # (an error not final: tried again)
        ack = {"_meta": {META + "subscriptionId": 0}, "notifications": params["notifications"]}
        await server.notify("notifications/subscriptions/acknowledged", ack)
        await server.notify("notifications/resources/updated", {"uri": f"file:///{len(listens)}"})
        if len(listens) == 1:
            return {}  # a graceful end (a shutdown, say): the client listens again
        await hold.wait()
        return {}

    heard: list[Any] = []

    async def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            heard.append(params.uri if hasattr(params, "uri") else params["uri"])

    server = FakeModernServer(handlers={"subscriptions/listen": listen})
    async with Client(server.open, on_notification=on_notification) as client:
        await client.subscribe("file:///a")
        await _until(lambda: len(heard) >= 2)
        assert heard == ["file:///1", "file:///3"]
        assert len(listens) == 3 and all(n == listens[0] for n in listens)
    hold.set()


async def test_a_probe_answered_too_late_is_sent_again_when_initialize_says_modern(
    fake_clock: asyncio.AbstractEventLoop,
) -> None:
    """A server slow to start answers the probe after the client gave up waiting and sent
    `initialize`, which a server of the modern revision only answers with -32022 listing
    what it speaks: that is the modern evidence the probe lacked, and the client probes once
    more (basic/versioning, Backward Compatibility) instead of failing to connect. (On a
    fake clock: the second probe must be answered within the 0.2 s too, which a process
    stalled that long did not.)"""
    server = FakeModernServer(discover_delays=(0.5,))
    async with Client(server.open, init_timeout=0.2) as client:
        assert client.protocol_version == "2026-07-28"
        await client.list_tools()
    assert server.methods() == ["server/discover", "initialize", "server/discover", "tools/list"]


async def test_over_http_a_slow_probe_is_waited_for_not_taken_for_a_legacy_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every HTTP server answers a POST (a legacy one with 400, 404 or 405), so over HTTP the
    probe waits `init_timeout`, not PROBE_TIMEOUT: a modern server slow to answer (the
    conformance suite's 48 scenario servers starting at once on a busy machine) keeps its
    era. Before, it got `initialize` after PROBE_TIMEOUT and the connect failed."""
    monkeypatch.setattr(era, "PROBE_TIMEOUT", 0.05)
    server = FakeModernServer(discover_delays=(0.3,))
    async with _http_client(server, init_timeout=20) as client:
        assert client.protocol_version == "2026-07-28"
    assert server.methods() == ["server/discover"]


async def test_a_modern_refusal_of_initialize_is_final_when_pinned_or_probed_again() -> None:
    # Pinned to the legacy era, the -32022 is the answer; probed once more, a server
    # that again says nothing in time is not probed a third time.
    with pytest.raises(McpError) as refused:
        async with Client(FakeModernServer().open, protocol="2025-11-25"):
            pass
    assert refused.value.code == -32022
    slow = FakeModernServer(discover_delays=(0.5, 0.5))
    with pytest.raises(McpError) as again:
        async with Client(slow.open, init_timeout=0.2):
            pass
    assert again.value.code == -32022
    assert slow.methods() == ["server/discover", "initialize", "server/discover"]


async def test_a_server_silent_to_the_probe_gets_initialize_after_the_probe_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Some legacy servers answer nothing before `initialize`: the probe gives up after
    PROBE_TIMEOUT, not after the whole `init_timeout` (30 s by default)."""
    monkeypatch.setattr(era, "PROBE_TIMEOUT", 0.2)
    server = FakeLegacyServer(silent=True)
    started = asyncio.get_running_loop().time()
    async with Client(server.open, init_timeout=20) as client:
        assert client.protocol_version == "2025-11-25"
    assert asyncio.get_running_loop().time() - started < 5
    # (the probe that timed out is cancelled: basic/patterns/cancellation, "Timeouts")
    assert server.methods[:3] == ["server/discover", "notifications/cancelled", "initialize"]
    # Pinned to the modern revision, the probe is the only opening: it waits init_timeout.
    silent = FakeLegacyServer(silent=True)
    started = asyncio.get_running_loop().time()
    with pytest.raises(McpError):
        async with Client(silent.open, protocol="2026-07-28", init_timeout=0.5):
            pass
    assert asyncio.get_running_loop().time() - started >= 0.5
