"""`ctx.read_resource(uri)`: a handler reads its own server's resources as a client would."""

from __future__ import annotations

import pytest

from mcpkit import Context, McpError, Server
from mcpkit.protocol import codes
from mcpkit.testing import connected
from mcpkit.types import BlobResourceContents, TextResourceContents


def make_server() -> Server:
    server = Server("reads")

    @server.resource("config://app", mime_type="application/json")
    def config() -> dict[str, str]:
        return {"theme": "dark"}

    @server.resource("users://{user_id}/profile")
    def profile(user_id: str) -> str:
        return f"profile of {user_id}"

    @server.resource("blob://logo", mime_type="image/png")
    def logo() -> bytes:
        return b"\x89PNG"

    @server.tool
    async def summary(ctx: Context, user: str) -> str:
        config_text = (await ctx.read_resource("config://app"))[0]
        user_text = (await ctx.read_resource(f"users://{user}/profile"))[0]
        assert isinstance(config_text, TextResourceContents)
        assert isinstance(user_text, TextResourceContents)
        return f"{config_text.text} / {user_text.text} ({config_text.mime_type})"

    @server.tool
    async def blob_size(ctx: Context) -> int:
        (contents,) = await ctx.read_resource("blob://logo")
        assert isinstance(contents, BlobResourceContents)
        return len(contents.blob)

    @server.tool
    async def missing(ctx: Context) -> str:
        try:
            await ctx.read_resource("nope://x")
        except McpError as exc:
            return f"{exc.code} {exc.message}"
        return "found"

    return server


async def test_a_tool_reads_static_and_templated_resources() -> None:
    async with connected(make_server()) as client:
        result = await client.call_tool("summary", {"user": "ada"})
        assert result.text == '{"theme":"dark"} / profile of ada (application/json)'
        assert (await client.call_tool("blob_size", {})).structured_content == {"result": 8}


async def test_an_unknown_uri_raises_what_a_client_would_get() -> None:
    async with connected(make_server()) as client:
        text = (await client.call_tool("missing", {})).text
        assert text.startswith(f"{codes.RESOURCE_NOT_FOUND} Resource not found")


async def test_it_is_the_same_as_resources_read() -> None:
    server = make_server()
    async with connected(server) as client:
        direct = await client.read_resource("users://bob/profile")
    got: list[object] = []

    @server.tool
    async def echo_read(ctx: Context) -> str:
        got.extend(await ctx.read_resource("users://bob/profile"))
        return "ok"

    async with connected(server) as client:
        await client.call_tool("echo_read", {})
    assert got == list(direct.contents)


@pytest.mark.parametrize("uri", ["", "users://", "x" * 10_000])
async def test_bad_uris_are_not_found(uri: str) -> None:
    server = make_server()

    @server.tool
    async def read_any(ctx: Context, target: str) -> str:
        try:
            await ctx.read_resource(target)
        except McpError as exc:
            return str(exc.code)
        return "found"

    async with connected(server) as client:
        assert (await client.call_tool("read_any", {"target": uri})).text == str(
            codes.RESOURCE_NOT_FOUND
        )
