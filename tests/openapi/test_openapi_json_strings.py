"""An OpenAPI tool (validated against its JSON schema, not a signature) takes an array argument
sent as a JSON string as the tools made from functions do, in both eras."""

from __future__ import annotations

import asyncio

import pytest
from _shop_app import make_app

from mcpkit import Client, Server

ERAS = ["2025-11-25", "2026-07-28"]


@pytest.mark.parametrize("era", ERAS)
async def test_an_array_sent_as_a_json_string_reaches_the_api(era: str) -> None:
    server = Server.from_fastapi(make_app())
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        created = await client.call_tool(
            "create_item", {"name": "cup", "price": 2.5, "tags": '["kitchen", "blue"]'}
        )
        assert not created.is_error, created.text
        assert created.structured_content is not None
        assert created.structured_content["tags"] == ["kitchen", "blue"]
        refused = await client.call_tool(
            "create_item", {"name": "cup", "price": 2.5, "tags": '"kitchen"'}
        )
        assert refused.is_error


async def test_without_the_switch_the_string_is_refused() -> None:
    server = Server.from_fastapi(make_app())
    server.json_string_arguments = False
    async with asyncio.timeout(10), Client(server) as client:
        refused = await client.call_tool(
            "create_item", {"name": "cup", "price": 2.5, "tags": '["kitchen"]'}
        )
        assert refused.is_error
        assert "tags" in refused.text
