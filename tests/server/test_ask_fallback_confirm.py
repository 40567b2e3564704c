"""`@server.tool(when_cannot_ask="confirm")`: where the client cannot answer a form
elicitation, the tool's generated `confirm` argument stands for the user's yes, and a call
without it tells the model to ask the user; where it can, the user is asked as before. In
both eras, through `Client`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.protocol import codes
from mcpkit.types import ElicitRequestParams, ElicitResult, TextContent

ERAS = ["2025-11-25", "2026-07-28"]


def deleting_server(done: list[str]) -> Server:
    server = Server("repos")

    @server.tool(when_cannot_ask="confirm")
    async def delete_repo(name: str, ctx: Context) -> str:
        """Delete a repository."""
        answer = await ctx.elicit(f"Delete the repository {name}?", bool)
        if answer.action != "accept" or not answer.data:
            return f"kept {name}: {answer.action}"
        done.append(name)
        return f"deleted {name}"

    return server


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def schema_of(client: Client, name: str) -> dict[str, Any]:
    tools = await client.list_tools()
    return next(t.input_schema for t in tools if t.name == name)


@pytest.mark.parametrize("protocol", ERAS)
async def test_without_elicitation_a_call_asks_the_model_to_ask_the_user(protocol: str) -> None:
    done: list[str] = []
    async with asyncio.timeout(10), Client(deleting_server(done), protocol=protocol) as client:
        schema = await schema_of(client, "delete_repo")
        first = await client.call_tool("delete_repo", {"name": "web"})
        assert done == []  # the tool stopped at its question
        second = await client.call_tool("delete_repo", {"name": "web", "confirm": True})
    confirm = schema["properties"]["confirm"]
    assert confirm["type"] == "boolean" and confirm["default"] is False
    assert "only after the user has agreed" in confirm["description"]
    assert schema["required"] == ["name"]
    assert first.is_error is True
    assert '"Delete the repository web?"' in text_of(first)
    assert "call this tool again with the same arguments and confirm=true" in text_of(first)
    assert second.is_error is not True and text_of(second) == "deleted web"
    assert done == ["web"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_client_that_can_answer_is_asked_and_confirm_counts_for_nothing(
    protocol: str,
) -> None:
    done: list[str] = []
    asked: list[str] = []

    def user(params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="decline")

    server = deleting_server(done)
    async with (
        asyncio.timeout(10),
        Client(server, protocol=protocol, elicitation_handler=user) as client,
    ):
        result = await client.call_tool("delete_repo", {"name": "web", "confirm": True})
    assert asked == ["Delete the repository web?"]
    assert text_of(result) == "kept web: decline" and done == []


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_client_with_url_mode_only_cannot_answer_a_form(protocol: str) -> None:
    def browser(params: ElicitRequestParams) -> ElicitResult:
        raise AssertionError("a form question never goes to a URL-only client")

    done: list[str] = []
    client = Client(deleting_server(done), protocol=protocol, url_elicitation_handler=browser)
    async with asyncio.timeout(10), client:
        first = await client.call_tool("delete_repo", {"name": "web"})
        second = await client.call_tool("delete_repo", {"name": "web", "confirm": True})
    assert first.is_error is True and "confirm=true" in text_of(first)
    assert text_of(second) == "deleted web"


async def test_a_client_that_declared_elicitation_but_knows_no_such_method_falls_back() -> None:
    def misreporting(params: ElicitRequestParams) -> ElicitResult:
        raise McpError(codes.METHOD_NOT_FOUND, "Method not found: elicitation/create")

    done: list[str] = []
    client = Client(deleting_server(done), protocol="2025-11-25", elicitation_handler=misreporting)
    async with asyncio.timeout(10), client:
        first = await client.call_tool("delete_repo", {"name": "web"})
        second = await client.call_tool("delete_repo", {"name": "web", "confirm": True})
    assert first.is_error is True and "confirm=true" in text_of(first)
    assert text_of(second) == "deleted web" and done == ["web"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_argument_takes_a_name_the_tool_does_not_use(protocol: str) -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="confirm")
    async def send(confirm: str, ctx: Context) -> str:
        """Send a confirmation code."""
        answer = await ctx.elicit(f"Send {confirm}?", {"type": "object", "properties": {}})
        return f"{answer.action} {answer.data}"

    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        schema = await schema_of(client, "send")
        result = await client.call_tool("send", {"confirm": "123", "confirmed": True})
    assert set(schema["properties"]) == {"confirm", "confirmed"}
    assert text_of(result) == "accept {}"  # a form with no fields: a yes is an empty answer


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_question_a_yes_cannot_answer_fails_the_tool_saying_so(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="confirm")
    async def rename(ctx: Context) -> str:
        """Rename something."""
        answer = await ctx.elicit("New name?", str)
        return str(answer.data)

    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        result = await client.call_tool("rename", {"confirm": True})
    assert result.is_error is True
    assert "answers yes/no questions only" in caplog.text  # (the server's log: a bug of its own)


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_tool_catching_exception_does_not_swallow_the_stop(protocol: str) -> None:
    server = Server("s")
    after: list[str] = []

    @server.tool(when_cannot_ask="confirm")
    async def careful(ctx: Context) -> str:
        """Ask, catching everything."""
        try:
            await ctx.elicit("Go?", bool)
        except Exception:
            after.append("caught")
        after.append("went on")
        return "done"

    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        result = await client.call_tool("careful", {})
    assert result.is_error is True and after == []


def test_registration_refuses_what_cannot_work() -> None:
    server = Server("s")

    async def no_context(name: str) -> str:
        return name

    def sync_tool(ctx: Context) -> str:
        return "x"

    async def asks(ctx: Context) -> str:
        return "x"

    with pytest.raises(ValueError, match="when_cannot_ask must be one of"):
        server.add_tool(asks, when_cannot_ask="maybe")  # type: ignore[typeddict-item]
    with pytest.raises(TypeError, match="taking a Context"):
        server.add_tool(no_context, when_cannot_ask="confirm")
    with pytest.raises(TypeError, match="an `async def`"):
        server.add_tool(sync_tool, when_cannot_ask="confirm")
    with pytest.raises(TypeError, match="when_cant_ask"):
        server.tool(when_cant_ask="confirm")  # type: ignore[call-overload]


def test_a_tool_without_a_fallback_is_not_wrapped() -> None:
    server = Server("s")

    async def plain(ctx: Context) -> str:
        return "x"

    async def erroring(ctx: Context) -> str:
        return "x"

    assert server.add_tool(plain).fn is plain
    assert server.add_tool(erroring, when_cannot_ask="error").fn is erroring


@pytest.mark.parametrize("protocol", ERAS)
async def test_error_keeps_todays_failure(protocol: str) -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="error")
    async def ask(ctx: Context) -> str:
        """Ask."""
        await ctx.elicit("Go?", bool)
        return "went"

    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        schema = await schema_of(client, "ask")
        try:
            result = await client.call_tool("ask", {})
        except McpError as exc:  # 2026-07-28: -32021, the capability the request lacks
            assert protocol == "2026-07-28" and exc.code == codes.MISSING_REQUIRED_CLIENT_CAPABILITY
        else:
            assert protocol == "2025-11-25" and result.is_error is True
    assert "confirm" not in schema.get("properties", {})


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_schema_of_the_users_own_gains_the_argument(protocol: str) -> None:
    server = Server("s")
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }

    async def delete(name: str, ctx: Context) -> str:
        answer = await ctx.elicit(f"Delete {name}?", bool)
        return f"{answer.action} {name}"

    server.add_tool(delete, input_schema=schema, when_cannot_ask="confirm")
    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        listed = await schema_of(client, "delete")
        result = await client.call_tool("delete", {"name": "web", "confirm": True})
    assert listed["properties"]["confirm"]["type"] == "boolean"
    assert "confirm" not in schema["properties"]  # the user's dict is left as it was
    assert text_of(result) == "accept web"
