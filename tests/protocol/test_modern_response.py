"""`ModernCodec.response`: a 2026-07-28 answer spliced as bytes says what the long way (shape the
result as Python objects, then encode) says, whatever the id and the result."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from mcpkit.protocol import jsonrpc
from mcpkit.protocol.modern import CachePolicy, ModernCodec, _shaped, encode_merged_response
from mcpkit.types import (
    CallToolResult,
    EmptyResult,
    Implementation,
    ListToolsResult,
    TextContent,
)

INFO = Implementation(name="s", version="1")
CACHE = CachePolicy(ttl_ms=500, scope="public")


@pytest.mark.parametrize("rid", [7, 0, "a-string", 'quote"and\\slash', -3])
@pytest.mark.parametrize(
    ("method", "result"),
    [
        ("tools/call", CallToolResult(content=[TextContent(text="hi")])),
        ("tools/call", CallToolResult(content=[TextContent(text="x")], meta={"k": 1})),
        ("ping", EmptyResult()),
        ("tools/list", ListToolsResult(tools=[])),
        ("tools/call", {"content": [], "isError": True}),
    ],
)
def test_the_spliced_answer_is_the_shaped_one(rid: Any, method: str, result: Any) -> None:
    data = ModernCodec(()).response(rid, result, method, INFO, CACHE)
    long_way = jsonrpc.encode_response(rid, _shaped(result, method, INFO, CACHE))
    assert msgspec.json.decode(data) == msgspec.json.decode(long_way)
    answer = msgspec.json.decode(data)
    assert answer["id"] == rid and answer["result"]["resultType"] == "complete"
    assert answer["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "s"


def test_a_string_id_and_an_empty_body_splice_into_json() -> None:
    data = encode_merged_response("1", b'"a":1', b'{"b":2}')
    assert msgspec.json.decode(data) == {"jsonrpc": "2.0", "id": "1", "result": {"a": 1, "b": 2}}
    empty = encode_merged_response(5, b'"a":1', b"{}")
    assert msgspec.json.decode(empty) == {"jsonrpc": "2.0", "id": 5, "result": {"a": 1}}
