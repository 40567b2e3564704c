"""Numbers in form elicitation end to end: a `float` field takes 2.5 and 3, an `int` field
takes 3.0 (docs/server.md: JSON counts numbers, not notations), through mcpkit's client, its
proxy and a raw schema. schema.ts types an answer's values `number`, where schema.json says
`integer` (docs/spec-deviations.md)."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer
from mcpkit.types import ElicitRequestParams, ElicitResult


@dataclasses.dataclass
class Order:
    ratio: float
    quantity: int
    speed: float = 1.5


def make_server() -> Server:
    server = Server("numbers")

    @server.tool()
    async def order(ctx: Context) -> str:
        """Ask for an order's numbers and say what arrived."""
        answer = await ctx.elicit("Your order?", Order)
        data = answer.data
        assert answer.action == "accept" and data is not None
        return repr((data.ratio, data.quantity, data.speed))

    @server.tool()
    async def raw(ctx: Context) -> str:
        """The same through a raw schema, whose content comes back as a dict."""
        schema = {"type": "object", "properties": {"ratio": {"type": "number"}}}
        answer = await ctx.elicit("A ratio?", schema)
        return repr(answer.data)

    return server


def answering(content: dict[str, Any]) -> Any:
    def elicit(params: ElicitRequestParams) -> ElicitResult:
        assert params.requested_schema["properties"]["speed"]["default"] == 1.5
        return ElicitResult(action="accept", content=content)

    return elicit


async def text_of(client: Client, tool: str) -> str:
    result = await client.call_tool(tool, {})
    block = result.content[0]
    assert not result.is_error, block
    return str(msgspec.to_builtins(block)["text"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"ratio": 2.5, "quantity": 3, "speed": 1.5}, "(2.5, 3, 1.5)"),
        ({"ratio": 3, "quantity": 3.0}, "(3.0, 3, 1.5)"),  # 3 for a float, 3.0 for an int
    ],
)
async def test_the_client_answers_numbers_the_server_takes(
    content: dict[str, Any], expected: str
) -> None:
    async with Client(make_server(), elicitation_handler=answering(content)) as client:
        assert await text_of(client, "order") == expected


async def test_a_callback_returning_a_plain_dict_with_a_fraction() -> None:
    def elicit(params: ElicitRequestParams) -> dict[str, Any]:
        return {"action": "accept", "content": {"ratio": 1.5}}

    async with Client(make_server(), elicitation_handler=elicit) as client:
        assert await text_of(client, "raw") == "{'ratio': 1.5}"


async def test_a_fraction_for_an_int_field_is_refused_naming_the_field() -> None:
    content = {"ratio": 1.0, "quantity": 2.5}
    async with Client(make_server(), elicitation_handler=answering(content)) as client:
        result = await client.call_tool("order", {})
    assert result.is_error
    assert "quantity" in str(msgspec.to_builtins(result.content[0])["text"])


async def test_the_proxy_passes_a_fraction_through() -> None:
    proxy = ProxyServer(make_server())
    content = {"ratio": 1.5, "quantity": 2}
    async with Client(proxy, elicitation_handler=answering(content)) as client:
        assert await text_of(client, "order") == "(1.5, 2, 1.5)"
