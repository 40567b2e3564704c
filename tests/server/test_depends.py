"""Dependency injection: parameters a handler asks for by type or `Depends` never reach a
schema, resolve once per call (each function once), clean up after the handler, and an
unresolvable one is refused at registration, in both eras and on every path a tool takes."""

from __future__ import annotations

import asyncio
import contextlib
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

from mcpkit import Client, Context, Server
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.server import Arg, Depends, Forward, LifespanState, RequestHeaders, TokenClaims

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []


def make_server(log: Log) -> Server:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, int]]:
        yield {"pool": 7}

    server = Server("deps", lifespan=lifespan, mask_error_details=False)

    async def connection(ctx: Context) -> AsyncIterator[str]:
        log.events.append(f"open for {ctx.method}")
        try:
            yield "conn"
        finally:
            log.events.append("close")

    def repository(conn: Annotated[str, Depends(connection)], prefix: str = "repo") -> str:
        log.events.append("repository")
        return f"{prefix}({conn})"

    def scratch() -> Iterator[list[str]]:
        items: list[str] = []
        yield items
        log.events.append(f"scratch held {items}")

    @server.tool
    async def lookup(
        key: str,
        repo: str = Depends(repository),
        conn: Annotated[str, Depends(connection)] = "",
        state: LifespanState = None,
    ) -> str:
        """Look a key up.

        Args:
            key: what to look up
        """
        log.events.append("handler")
        return f"{key} in {repo} via {conn}, pool {state['pool']}"

    @server.tool
    def sync_tool(n: int, items: list[str] = Depends(scratch)) -> int:
        items.append(str(n))
        return n * 2

    @server.tool
    async def failing(conn: Annotated[str, Depends(connection)]) -> str:
        raise RuntimeError("the handler broke")

    @server.tool
    def anonymous(headers: RequestHeaders, claims: TokenClaims, token: AccessToken | None) -> str:
        return f"{dict(headers)} {dict(claims)} {token}"

    @server.tool
    def needs_token(token: AccessToken) -> str:
        return str(token.subject)

    @server.prompt
    def greeting(name: str, repo: Annotated[str, Depends(repository)]) -> str:
        return f"hello {name} from {repo}"

    @server.resource("items://{item}")
    def item(item: str, repo: str = Depends(repository)) -> str:
        return f"{item} in {repo}"

    @server.resource("config://pool")
    def pool(state: Annotated[dict[str, int], LifespanState]) -> str:
        return str(state["pool"])

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_injected_parameters_never_reach_a_schema(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server(Log()), protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert tools["lookup"].input_schema == {
            "type": "object",
            "properties": {"key": {"type": "string", "description": "what to look up"}},
            "required": ["key"],
            "additionalProperties": False,
        }
        assert tools["lookup"].description == "Look a key up."
        assert tools["anonymous"].input_schema["properties"] == {}
        assert tools["failing"].input_schema["properties"] == {}
        (prompt,) = await client.list_prompts()
        assert [a.name for a in prompt.arguments or []] == ["name"]
        (template,) = await client.list_resource_templates()
        assert template.uri_template == "items://{item}"


@pytest.mark.parametrize("era", ERAS)
async def test_each_dependency_runs_once_per_call_and_cleans_up_after(era: str) -> None:
    log = Log()
    async with asyncio.timeout(WAIT), Client(make_server(log), protocol=era) as client:
        result = await client.call_tool("lookup", {"key": "k"})
        assert result.text == "k in repo(conn) via conn, pool 7"
        # `connection` is asked for twice (by the handler and by `repository`): it runs once,
        # and closes after the handler.
        assert log.events == ["open for tools/call", "repository", "handler", "close"]
        log.events.clear()
        assert (await client.call_tool("lookup", {"key": "k"})).text.startswith("k in")
        assert log.events.count("open for tools/call") == 1  # a fresh value per call


@pytest.mark.parametrize("era", ERAS)
async def test_a_sync_generator_dependency_cleans_up_after_a_sync_handler(era: str) -> None:
    log = Log()
    async with asyncio.timeout(WAIT), Client(make_server(log), protocol=era) as client:
        assert (await client.call_tool("sync_tool", {"n": 4})).structured_content == {"result": 8}
        assert log.events == ["scratch held ['4']"]


@pytest.mark.parametrize("era", ERAS)
async def test_cleanup_runs_when_the_handler_fails(era: str) -> None:
    log = Log()
    async with asyncio.timeout(WAIT), Client(make_server(log), protocol=era) as client:
        result = await client.call_tool("failing", {})
        assert result.is_error
        assert "the handler broke" in result.text
        assert log.events == ["open for tools/call", "close"]


@pytest.mark.parametrize("era", ERAS)
async def test_prompts_and_resources_take_dependencies(era: str) -> None:
    log = Log()
    async with asyncio.timeout(WAIT), Client(make_server(log), protocol=era) as client:
        prompt = await client.get_prompt("greeting", {"name": "ada"})
        assert prompt.messages[0].content.text == "hello ada from repo(conn)"  # type: ignore[union-attr]
        assert log.events == ["open for prompts/get", "repository", "close"]
        read = await client.read_resource("items://bolt")
        assert read.contents[0].text == "bolt in repo(conn)"  # type: ignore[union-attr]
        assert (await client.read_resource("config://pool")).contents[0].text == "7"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_without_http_there_are_no_headers_and_no_token(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server(Log()), protocol=era) as client:
        assert (await client.call_tool("anonymous", {})).text == "{} {} None"
        refused = await client.call_tool("needs_token", {})
        assert refused.is_error
        assert "this request has none" in refused.text


def test_a_handler_without_dependencies_is_registered_as_it_is() -> None:
    server = Server("plain")

    async def plain(ctx: Context, x: int) -> int:
        return x

    assert server.add_tool(plain).fn is plain


# (module level, so that their string hints, read at registration, name each other)
def loop_a(x: Annotated[str, Depends(loop_b)]) -> str:  # pyright: ignore[reportUndefinedVariable]
    return x


def loop_b(ctx: Context, y: Annotated[str, Depends(loop_a)]) -> str:
    return y


def test_a_cycle_is_refused_at_registration() -> None:
    server = Server("cycle")
    with pytest.raises(TypeError) as raised:

        @server.tool
        def tool(v: str = Depends(loop_a)) -> str:
            return v

    message = str(raised.value)
    assert "tool 'tool', parameter 'v'" in message
    assert "loop_a() -> loop_b() -> loop_a()" in message


def test_a_dependency_parameter_nothing_can_fill_is_refused_at_registration() -> None:
    server = Server("unfillable")

    def needs_url(url: str) -> str:
        return url

    with pytest.raises(TypeError, match=r"prompt 'p', parameter 'conn': needs_url\(\) takes 'url'"):

        @server.prompt
        def p(conn: str = Depends(needs_url)) -> str:
            return conn


def test_depends_takes_a_function() -> None:
    with pytest.raises(TypeError, match="Depends\\(\\) takes a function"):
        Depends("db")  # type: ignore[arg-type]


# ---------------------------------------------------------------- other paths a tool takes


def child_server() -> Server:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        yield "child state"

    child = Server("child", lifespan=lifespan)

    def server_name(ctx: Context) -> str:
        return ctx.server.name

    def as_task(ctx: Context) -> str:
        return " as a task" if ctx.task is not None else ""

    @child.tool(task=True)
    async def where(
        label: str,
        name: str = Depends(server_name),
        state: LifespanState = None,
        task: str = Depends(as_task),
    ) -> str:
        return f"{label}: {name}, {state}{task}"

    @child.resource("notes://{name}")
    def note(name: str, owner: str = Depends(server_name), state: LifespanState = None) -> str:
        return f"{name} of {owner}, {state}"

    return child


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_template_resolves_with_its_own_server(era: str) -> None:
    parent = Server("parent")
    parent.mount(child_server(), namespace="kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        read = await client.read_resource("notes://kid/todo")
        assert read.contents[0].text == "todo of child, child state"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_tool_resolves_with_its_own_server(era: str) -> None:
    parent = Server("parent")
    parent.mount(child_server(), namespace="kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        (tool,) = await client.list_tools()
        assert tool.input_schema["properties"] == {"label": {"type": "string"}}
        result = await client.call_tool("kid_where", {"label": "here"})
        # (a task under 2026-07-28, where the server decides: the tasks extension)
        assert result.text.startswith("here: child, child state")


@pytest.mark.parametrize("era", ERAS)
async def test_a_task_tool_resolves_its_dependencies(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(child_server(), protocol=era) as client:
        result = await client.call_tool("where", {"label": "task"}, task=True)
        assert result.text == "task: child, child state as a task"


@pytest.mark.parametrize("era", ERAS)
async def test_a_transformed_tool_shows_no_injected_parameter(era: str) -> None:
    server = child_server()

    def suffix(ctx: Context) -> str:
        return f"(wrapped on {ctx.server.name})"

    async def shout(label: str, forward: Forward, tail: str = Depends(suffix)) -> str:
        result = await forward(label=label.upper())
        return f"{result.content[0].text} {tail}"  # type: ignore[union-attr]

    server.transform_tool(
        "where", name="renamed", arguments={"label": Arg(name="tag")}, keep_original=True
    )
    server.transform_tool("where", name="wrapped", wrap=shout, keep_original=True)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert tools["renamed"].input_schema["properties"] == {"tag": {"type": "string"}}
        assert tools["wrapped"].input_schema["properties"] == {"label": {"type": "string"}}
        assert (await client.call_tool("renamed", {"tag": "x"})).text.startswith("x: child, child")
        wrapped = await client.call_tool("wrapped", {"label": "y"})
        assert wrapped.text.startswith("Y: child, child state")
        assert wrapped.text.endswith(" (wrapped on child)")


@pytest.mark.parametrize("era", ERAS)
async def test_a_hidden_arguments_compute_takes_dependencies(era: str) -> None:
    server = child_server()

    def label_of(state: LifespanState, ctx: Context) -> str:
        return f"{state} for {ctx.method}"

    hidden = {"label": Arg(hide=True, compute=label_of)}
    server.transform_tool("where", name="fixed", arguments=hidden)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        (tool,) = await client.list_tools()
        assert tool.input_schema["properties"] == {}
        result = await client.call_tool("fixed", {})
        assert result.text.startswith("child state for tools/call: child, child state")


def test_the_markers_are_public() -> None:
    import mcpkit
    import mcpkit.server

    for name in ("Depends", "CurrentToken", "TokenClaims", "RequestHeaders", "LifespanState"):
        assert getattr(mcpkit, name) is getattr(mcpkit.server, name)
    assert typing.get_origin(mcpkit.RequestHeaders) is Annotated
