"""Bad input sent to a real Server over the in-memory pair gets the error the spec names,
and the session goes on (raw JSON-RPC through mcpkit.testing.RawPeer)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Context, Server
from mcpkit.protocol import codes
from mcpkit.testing import raw_session


def make_server() -> Server:
    server = Server("bad-input", max_message_size=2000)
    gate = asyncio.Event()

    @server.tool()
    async def wait(ctx: Context) -> str:
        await asyncio.wait_for(gate.wait(), 5)
        return "done"

    @server.tool()
    def release() -> str:
        gate.set()
        return "released"

    return server


async def expect_error(peer, data: bytes, code: int) -> None:  # type: ignore[no-untyped-def]
    await peer.send_bytes(data)
    reply = await peer.receive()
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    assert (await peer.request("ping"))["result"] == {}


async def test_malformed_and_misshapen_messages() -> None:
    async with raw_session(make_server()) as peer:
        await expect_error(peer, b"{not json", codes.PARSE_ERROR)
        await expect_error(peer, b'{"jsonrpc": "2.0", "id": 1}', codes.INVALID_REQUEST)
        await expect_error(peer, b"[1, 2]", codes.INVALID_REQUEST)  # no batches in 2025-11-25
        await expect_error(
            peer, b'{"jsonrpc": "2.0", "id": 2, "method": "no/such"}', codes.METHOD_NOT_FOUND
        )
        await expect_error(
            peer, b'{"jsonrpc": "2.0", "id": 3, "method": "prompts/list"}', codes.METHOD_NOT_FOUND
        )  # a feature the server did not declare
        await expect_error(
            peer,
            b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 1}}',
            codes.INVALID_PARAMS,
        )
        big = (
            b'{"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"x": "'
            + b"y" * 3000
            + b'"}}'
        )
        await expect_error(peer, big, codes.INVALID_REQUEST)


async def test_unknown_tool_and_resource() -> None:
    async with raw_session(make_server()) as peer:
        reply = await peer.request("tools/call", {"name": "missing", "arguments": {}})
        assert reply["error"]["code"] == codes.INVALID_PARAMS
        assert "missing" in reply["error"]["message"]


async def test_requests_before_initialize() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        assert (await peer.request("ping"))["result"] == {}
        refused = await peer.request("tools/list")
        assert refused["error"]["code"] == codes.INVALID_REQUEST
        await peer.initialize()
        assert "tools" in (await peer.request("tools/list"))["result"]


async def test_duplicate_inflight_id_and_stray_response() -> None:
    async with raw_session(make_server()) as peer:
        await peer.send(
            {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "wait"}}
        )
        await asyncio.sleep(0)
        duplicate = await peer.request("tools/call", {"name": "release"}, id=7)
        assert duplicate["error"]["code"] == codes.INVALID_REQUEST
        # A response to an id we never used is ignored; the session goes on.
        await peer.send({"jsonrpc": "2.0", "id": 424242, "result": {}})
        released = await peer.request("tools/call", {"name": "release"})
        assert released["result"]["content"][0]["text"] == "released"
        first = await peer.response_to(7)
        assert first["result"]["content"][0]["text"] == "done"


async def test_unknown_protocol_version_gets_our_latest() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        result = await peer.initialize(protocol_version="1999-01-01")
        assert result["protocolVersion"] == "2025-11-25"


async def test_older_revisions_get_results_without_fields_they_did_not_have() -> None:
    from mcpkit.types import ToolAnnotations

    server = Server("old-peers")

    @server.tool(title="Adder", annotations=ToolAnnotations(read_only_hint=True))
    def add(a: int, b: int) -> int:
        return a + b

    async with raw_session(server, protocol_version="2024-11-05") as peer:
        (tool,) = (await peer.request("tools/list"))["result"]["tools"]
        assert set(tool) == {"name", "inputSchema"}  # no title, annotations, outputSchema
        called = (await peer.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}))[
            "result"
        ]
        assert called == {"content": [{"type": "text", "text": "3"}]}
    async with raw_session(server, protocol_version="2025-06-18") as peer:
        (tool,) = (await peer.request("tools/list"))["result"]["tools"]
        assert {"title", "annotations", "outputSchema"} <= set(tool)
        called = (await peer.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}))[
            "result"
        ]
        assert called["structuredContent"] == {"result": 3}


async def test_batches_work_end_to_end_in_2025_03_26_only() -> None:
    server = make_server()
    batch = (
        b'[{"jsonrpc": "2.0", "id": "a", "method": "ping"},'
        b' {"jsonrpc": "2.0", "id": "b", "method": "tools/call",'
        b'  "params": {"name": "release"}},'
        b' {"jsonrpc": "2.0", "method": "notifications/whatever"}]'
    )
    async with raw_session(server, protocol_version="2025-03-26") as peer:
        await peer.send_bytes(batch)
        replies = await peer.receive()
        assert isinstance(replies, list)
        by_id = {r["id"]: r for r in replies}
        assert by_id["a"]["result"] == {}
        assert by_id["b"]["result"]["content"][0]["text"] == "released"
    async with raw_session(server) as peer:  # 2025-11-25 has no batches
        await peer.send_bytes(batch)
        refused = await peer.receive()
        assert refused["error"]["code"] == codes.INVALID_REQUEST


async def test_meta_reaches_the_handler_and_unknown_fields_are_ignored() -> None:
    from mcpkit import Client

    server = Server("meta")

    @server.tool()
    def trace(ctx: Context) -> str:
        return str((ctx.meta or {}).get("example.com/trace"))

    async with Client(server) as client:
        result = await client.call_tool("trace", meta={"example.com/trace": "abc"})
        assert result.content[0].text == "abc"
    async with raw_session(server) as peer:
        reply = await peer.request(
            "tools/call",
            {
                "name": "trace",
                "arguments": {},
                "someFutureField": {"x": 1},
                "_meta": {"example.com/trace": "raw", "progressToken": 5},
            },
        )
        assert reply["result"]["content"][0]["text"] == "raw"


async def test_a_result_over_the_clients_limit_fails_the_call_at_once() -> None:
    from mcpkit import Client, McpError

    server = Server("big")

    @server.tool()
    def big() -> str:
        return "x" * 5000

    async with Client(server, max_message_size=1000, timeout=30) as client:
        with pytest.raises(McpError, match="exceeds the limit of 1000 bytes"):
            await client.call_tool("big")
        await client.ping()  # the session goes on


# ------------------------------------------- bytes that used to end the process


def echo_server() -> Server:
    server = Server("echo")  # default limits: what is refused here is refused for depth

    @server.tool()
    def echo(text: Any) -> str:
        return repr(text)

    return server


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels  # 1,000 levels: 2 KB


@pytest.mark.parametrize(
    ("data", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":21,"method":"pi\xffng"}', 21),
        (b'{"jsonrpc":"2.0","id":"\xff","method":"ping"}', None),
        (b'{"jsonrpc":"2.\xff","id":22,"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","method":"notifications/\xffinitialized"}', None),
        (
            b'{"jsonrpc":"2.0","id":23,"method":"tools/call",'
            b'"params":{"name":"echo","arguments":{"text":"caf\xe9"}}}',
            23,
        ),  # Latin-1, not UTF-8
        (b'"abc" x', None),
        (b'{"jsonrpc":"2.0","id":24,"method":"ping"} trailing', 24),
    ],
)
async def test_what_is_not_utf8_json_is_a_parse_error(data: bytes, rid: object) -> None:
    async with raw_session(echo_server()) as peer:
        await peer.send_bytes(data)
        reply = await peer.receive()
        assert (reply["error"]["code"], reply["id"]) == (codes.PARSE_ERROR, rid), reply
        assert (await peer.request("ping"))["result"] == {}
        called = await peer.request(
            "tools/call", {"name": "echo", "arguments": {"text": "caf\u00e9"}}
        )
        assert called["result"]["content"][0]["text"] == "'caf\u00e9'"


async def test_invalid_utf8_as_the_very_first_line() -> None:
    async with raw_session(echo_server(), initialize=False) as peer:
        await peer.send_bytes(b'{"jsonrpc":"2.0","id":1,"method":"initi\xc3lize"}')
        reply = await peer.receive()
        assert (reply["error"]["code"], reply["id"]) == (codes.PARSE_ERROR, 1)
        assert (await peer.initialize())["protocolVersion"] == "2025-11-25"


@pytest.mark.parametrize(
    ("data", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":' + deep(1000) + b',"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","id":31,"method":"ping","params":' + deep(1000) + b"}", 31),
        (
            b'{"jsonrpc":"2.0","id":32,"method":"tools/call",'
            b'"params":{"name":"echo","arguments":{"text":' + deep(1000) + b"}}}",
            32,
        ),
    ],
)
async def test_a_2kb_line_nested_1000_deep_is_refused(data: bytes, rid: object) -> None:
    assert len(data) < 2200
    async with raw_session(echo_server()) as peer:
        await peer.send_bytes(data)
        reply = await peer.receive()
        assert (reply["error"]["code"], reply["id"]) == (codes.INVALID_REQUEST, rid), reply
        assert "max_json_depth" in reply["error"]["message"]
        assert (await peer.request("ping"))["result"] == {}
        nested = await peer.request(
            "tools/call", {"name": "echo", "arguments": {"text": [[[[1]]]]}}
        )
        assert nested["result"]["content"][0]["text"] == "[[[[1]]]]"


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


async def test_the_depth_limit_is_a_server_setting() -> None:
    server = Server("shallow", max_json_depth=8)

    @server.tool()
    def echo(value: list[Any]) -> list[list[Any]]:  # (a list of anything has no output schema)
        return value

    async with raw_session(server) as peer:
        # Envelope, params and arguments take three levels: five more fit, six do not.
        ok = await peer.request("tools/call", {"name": "echo", "arguments": {"value": nested(4)}})
        assert ok["result"]["structuredContent"] == {"result": nested(4)}
        refused = await peer.request(
            "tools/call", {"name": "echo", "arguments": {"value": nested(6)}}
        )
        assert refused["error"]["code"] == codes.INVALID_REQUEST
        assert "8" in refused["error"]["message"]
        assert (await peer.request("ping"))["result"] == {}


async def test_the_client_applies_its_own_depth_limit_to_results() -> None:
    from mcpkit import Client, PeerError

    server = Server("deep")

    @server.tool()
    def deep() -> list[list[Any]]:  # structured: a list of anything would go out as text
        return nested(20)  # type: ignore[no-any-return]  # a list, built level by level

    async with Client(server, max_json_depth=10) as client:
        with pytest.raises(PeerError, match="10"):
            await client.call_tool("deep")
        assert await client.ping() is None


def test_send_high_water_reaches_each_session() -> None:
    server = Server("bounded", send_high_water=4096)
    from mcpkit.transports.memory import memory_channel_pair

    handle = server.new_connection(memory_channel_pair()[1])
    assert handle.connection.send_high_water == 4096


async def test_a_number_past_a_doubles_range_is_the_models_to_fix() -> None:
    """Found by the fuzzer: 1e999 is valid JSON but fits no float; it was -32603."""
    server = Server("ranges")

    @server.tool()
    def add(a: int, b: float) -> float:
        return a + b

    @server.tool(input_schema={"type": "object", "properties": {"x": {}}})
    def raw(x: Any = None) -> str:
        return "never"

    async with raw_session(server) as peer:
        for name, arguments, path in [
            ("add", b'{"a": 1, "b": 1e999}', "$.b"),
            ("add", b'{"a": -1e999, "b": 1}', "$.a"),
            ("raw", b'{"x": [1, 1e999]}', "$"),
        ]:
            await peer.send_bytes(
                b'{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "'
                + name.encode()
                + b'", "arguments": '
                + arguments
                + b"}}"
            )
            reply = await peer.receive()
            assert reply["id"] == 9 and reply["result"]["isError"] is True, reply
            text = reply["result"]["content"][0]["text"]
            assert "out of range" in text and path in text, text
        assert (await peer.request("ping"))["result"] == {}
