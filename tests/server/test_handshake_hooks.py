"""Typed middleware around the requests the protocol answers by itself: `on_initialize`
(2025-11-25), `on_discover` (2026-07-28) and `on_ping` may refuse or change the answer, which
the protocol checks before it is sent; a server without such hooks hands none of them out."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server import TypedMiddleware
from mcpkit.server.middleware import AnswerNext, CallNext, CallToolNext, InitializeNext
from mcpkit.types import InitializeRequestParams, InitializeResult, ServerCapabilities


def make_server(*middleware: Any) -> Server:
    server = Server("handshake", instructions="as declared", middleware=middleware)

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.prompt()
    def greet() -> str:
        return "hello"

    return server


class Recorder:
    """A plain chain layer: the methods that reached the middleware."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        self.methods.append(ctx.method)
        return await call_next(params)


class Greeter(TypedMiddleware):
    """Tells each client its own instructions, and turns away the one named 'intruder'."""

    def __init__(self) -> None:
        self.versions: list[str] = []

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        if params.client_info.name == "intruder":
            raise McpError(codes.INVALID_REQUEST, "not you")
        result = await call_next()
        self.versions.append(result.protocol_version)
        return msgspec.structs.replace(result, instructions=f"hello {params.client_info.name}")

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        return {**(await call_next()), "instructions": "discovered"}


async def test_on_initialize_changes_the_instructions_and_sees_the_negotiated_version() -> None:
    greeter = Greeter()
    async with Client(make_server(greeter), protocol="2025-11-25") as client:
        assert client.instructions == f"hello {client.client_info.name}"
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    assert greeter.versions == ["2025-11-25"]


async def test_on_initialize_refuses_the_session() -> None:
    server = make_server(Greeter())
    with pytest.raises(McpError, match="not you"):
        async with asyncio.timeout(10):
            async with Client(server, protocol="2025-11-25", name="intruder"):
                pass


async def test_on_discover_changes_what_a_2026_client_is_told() -> None:
    async with Client(make_server(Greeter()), protocol="2026-07-28") as client:
        assert client.instructions == "discovered"
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}


class Narrowing(TypedMiddleware):
    """Advertises no prompts (capabilities may be narrowed)."""

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        result = await call_next()
        fewer = msgspec.structs.replace(result.capabilities, prompts=None)
        return msgspec.structs.replace(result, capabilities=fewer)

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        result = await call_next()
        capabilities = {k: v for k, v in result["capabilities"].items() if k != "prompts"}
        return {**result, "capabilities": capabilities}


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_hook_may_advertise_fewer_capabilities(era: str) -> None:
    async with Client(make_server(Narrowing()), protocol=era) as client:
        assert client.server_capabilities.prompts is None
        assert client.server_capabilities.tools is not None


class Boasting(TypedMiddleware):
    """Advertises what the server does not serve (no resources are registered)."""

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        result = await call_next()
        more = msgspec.convert(
            {**msgspec.to_builtins(result.capabilities), "resources": {"subscribe": True}},
            ServerCapabilities,
        )
        return msgspec.structs.replace(result, capabilities=more)

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        result = await call_next()
        return {**result, "capabilities": {**result["capabilities"], "resources": {}}}


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_advertising_an_unserved_capability_is_refused(era: str) -> None:
    with pytest.raises(McpError, match="capability 'resources', which the server does not"):
        async with asyncio.timeout(10):
            async with Client(make_server(Boasting()), protocol=era):
                pass


class Downgrading(TypedMiddleware):
    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        result = await call_next()
        return msgspec.structs.replace(result, protocol_version="2025-06-18")


async def test_the_negotiated_version_stays_the_protocols() -> None:
    with pytest.raises(McpError, match="negotiated protocol version"):
        async with asyncio.timeout(10):
            async with Client(make_server(Downgrading()), protocol="2025-11-25"):
                pass


class PingCounter(TypedMiddleware):
    def __init__(self, refuse: bool = False) -> None:
        self.pings = 0
        self.refuse = refuse

    async def on_ping(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        self.pings += 1
        if self.refuse:
            raise McpError(codes.INTERNAL_ERROR, "busy")
        return await call_next()


async def test_on_ping_sees_and_may_refuse_a_ping() -> None:
    counter = PingCounter()
    async with Client(make_server(counter), protocol="2025-11-25") as client:
        await client.ping()
        await client.ping()
    assert counter.pings == 2
    async with Client(make_server(PingCounter(refuse=True)), protocol="2025-11-25") as client:
        with pytest.raises(McpError, match="busy"):
            await client.ping()


async def test_with_a_handshake_hook_the_whole_chain_sees_initialize_and_ping() -> None:
    recorder = Recorder()
    async with Client(make_server(recorder, PingCounter()), protocol="2025-11-25") as client:
        await client.ping()
    # (PingCounter has no on_initialize: initialize is still the protocol's alone)
    assert recorder.methods == ["ping"]
    recorder = Recorder()
    async with Client(make_server(recorder, Greeter()), protocol="2025-11-25") as client:
        await client.ping()
    assert recorder.methods == ["initialize"]


class ToolsOnly(TypedMiddleware):
    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        return await call_next(name, arguments)


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_without_a_handshake_hook_the_protocol_answers_alone(era: str) -> None:
    recorder = Recorder()
    server = make_server(recorder, ToolsOnly())
    async with Client(server, protocol=era) as client:
        await client.ping()
        await client.call_tool("add", {"a": 1, "b": 2})
    assert recorder.methods == ["tools/call"]
    assert server._protocols.new().intercepts == frozenset()  # pyright: ignore[reportPrivateUsage]
