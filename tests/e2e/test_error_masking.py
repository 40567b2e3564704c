"""`Server(mask_error_details=...)`: what an unexpected exception from a tool, resource or
prompt tells the client, with both settings; ToolError and McpError always pass as they are."""

from __future__ import annotations

import functools
import logging

import pytest

from mcpkit import Client, Context, McpError, Server, ToolError
from mcpkit.protocol import codes

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


SECRET = "password=hunter2 at db.internal:5432"


def make_server(mask: bool) -> Server:
    server = Server("masking", mask_error_details=mask)

    @server.tool()
    def crash(kind: str) -> str:
        if kind == "tool":
            raise ToolError("try another city")
        if kind == "protocol":
            raise McpError(codes.INVALID_PARAMS, "bad things")
        raise RuntimeError(SECRET)

    @server.tool()
    def wrong_output() -> int:
        return SECRET  # type: ignore[return-value]  # deliberately breaks its own hint

    @server.resource("secret://crash")
    def secret() -> str:
        raise RuntimeError(SECRET)

    @server.resource("secret://denied")
    def denied() -> str:
        raise McpError(codes.INVALID_PARAMS, "denied for you")

    @server.prompt()
    def leaky(topic: str) -> str:
        raise RuntimeError(SECRET)

    return server


@pytest.mark.parametrize("mask", [False, True])
async def test_tool_exception_text_is_masked_only_when_asked(
    mask: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        async with Client(make_server(mask)) as client:
            crashed = await client.call_tool("crash", {"kind": "crash"})
            wrong = await client.call_tool("wrong_output")
            tool_error = await client.call_tool("crash", {"kind": "tool"})
            with pytest.raises(McpError) as info:
                await client.call_tool("crash", {"kind": "protocol"})
    assert crashed.is_error is True and wrong.is_error is True
    text = crashed.content[0].text  # type: ignore[union-attr]
    assert (SECRET in text) is not mask
    assert "crash" in text  # the model still learns which tool failed
    assert ("Expected `int`" in wrong.content[0].text) is not mask  # type: ignore[union-attr]
    # Meant for the model or the client: never masked.
    assert tool_error.content[0].text == "try another city"  # type: ignore[union-attr]
    assert info.value.code == codes.INVALID_PARAMS and info.value.message == "bad things"
    # The server's log always has the whole story.
    assert any(r.exc_info and SECRET in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.parametrize("mask", [False, True])
async def test_resource_and_prompt_exception_text_is_masked_only_when_asked(
    mask: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        async with Client(make_server(mask)) as client:
            with pytest.raises(McpError) as resource:
                await client.read_resource("secret://crash")
            with pytest.raises(McpError) as prompt:
                await client.get_prompt("leaky", {"topic": "x"})
            with pytest.raises(McpError) as denied:
                await client.read_resource("secret://denied")
            await client.ping()  # the session goes on
    for error in (resource.value, prompt.value):
        assert error.code == codes.INTERNAL_ERROR
        assert (SECRET in error.message) is not mask
    assert denied.value.code == codes.INVALID_PARAMS and denied.value.message == "denied for you"
    logged = [r for r in caplog.records if r.exc_info and SECRET in str(r.exc_info[1])]
    assert len(logged) == 2


async def test_masking_is_the_default_and_the_environment_can_turn_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 19: RuntimeError("db password hunter2 at /srv/app/secrets.py") reached the peer.
    monkeypatch.delenv("MCPKIT_MASK_ERROR_DETAILS", raising=False)
    server = Server("default")

    @server.tool()
    def crash() -> str:
        raise RuntimeError(SECRET)

    @server.prompt()
    def missing() -> str:
        with open("/nonexistent/y") as f:
            return f.read()

    assert server.mask_error_details is True
    async with Client(server) as client:
        crashed = await client.call_tool("crash")
        with pytest.raises(McpError) as prompt:
            await client.get_prompt("missing")
    assert crashed.content[0].text == "Error executing tool 'crash'"  # type: ignore[union-attr]
    assert prompt.value.message == "Internal error" and "nonexistent" not in str(prompt.value)
    monkeypatch.setenv("MCPKIT_MASK_ERROR_DETAILS", "0")  # what mcpkit dev sets
    assert Server("dev").mask_error_details is False
    assert Server("told", mask_error_details=True).mask_error_details is True


async def test_mcpkits_own_words_about_its_use_pass_a_mask() -> None:
    server = Server("asks")

    @server.tool()
    async def ask(ctx: Context) -> str:
        await ctx.sample("hello?", max_tokens=5)  # the client never declared sampling
        return "unreachable"

    async with Client(server) as client:
        result = await client.call_tool("ask")
    assert result.is_error and "sampling" in result.text
