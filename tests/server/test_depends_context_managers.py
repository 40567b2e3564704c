"""A `Depends` factory written as a context manager (`@asynccontextmanager`,
`@contextmanager`: FastMCP's form) is entered for the call and exited after it, the
handler's exception reaching its exit; in both eras, through the real client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server import Depends

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


class Db:
    def __init__(self, name: str) -> None:
        self.name = name


def make_server(events: list[str]) -> Server:
    server = Server("cm", mask_error_details=False)

    @contextlib.asynccontextmanager
    async def database(ctx: Context) -> AsyncIterator[Db]:
        events.append(f"open for {ctx.method}")
        try:
            yield Db("main")
        except Exception as exc:
            events.append(f"rolled back after {exc}")
            raise
        else:
            events.append("committed")
        finally:
            events.append("closed")

    @contextlib.contextmanager
    def cursor(db: Annotated[Db, Depends(database)]) -> Iterator[str]:
        events.append("cursor")
        try:
            yield f"cursor on {db.name}"
        except LookupError as exc:
            events.append(f"cursor saw {exc!r}")
            raise
        finally:
            events.append("cursor closed")

    class Repository:
        @contextlib.asynccontextmanager
        async def session(self) -> AsyncIterator[str]:
            yield "repository session"
            events.append("session closed")

    @server.tool
    async def query(sql: str, db: Db = Depends(database)) -> str:
        events.append("query")
        return f"{sql} on {db.name}"

    @server.tool
    def scan(table: str, cur: Annotated[str, Depends(cursor)]) -> str:
        return f"{table} with {cur}"

    @server.tool
    def missing(table: str, cur: Annotated[str, Depends(cursor)]) -> str:
        raise LookupError(table)

    @server.tool
    async def broken(db: Db = Depends(database)) -> str:
        raise RuntimeError("constraint violated")

    @server.tool
    def stored(session: str = Depends(Repository().session)) -> str:
        return session

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_an_async_context_manager_is_entered_and_exited_around_the_call(era: str) -> None:
    events: list[str] = []
    async with asyncio.timeout(WAIT), Client(make_server(events), protocol=era) as client:
        result = await client.call_tool("query", {"sql": "select 1"})
        assert result.text == "select 1 on main"  # the value it yields, not the manager
        assert events == ["open for tools/call", "query", "committed", "closed"]


@pytest.mark.parametrize("era", ERAS)
async def test_the_handlers_exception_reaches_the_managers_exit(era: str) -> None:
    events: list[str] = []
    async with asyncio.timeout(WAIT), Client(make_server(events), protocol=era) as client:
        result = await client.call_tool("broken", {})
        assert result.is_error and "constraint violated" in (result.text or "")
        assert events == ["open for tools/call", "rolled back after constraint violated", "closed"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_sync_context_manager_depending_on_another_is_exited_first(era: str) -> None:
    events: list[str] = []
    async with asyncio.timeout(WAIT), Client(make_server(events), protocol=era) as client:
        result = await client.call_tool("scan", {"table": "t"})
        assert result.text == "t with cursor on main"
        assert events == ["open for tools/call", "cursor", "cursor closed", "committed", "closed"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_method_written_as_a_context_manager_is_entered_too(era: str) -> None:
    events: list[str] = []
    async with asyncio.timeout(WAIT), Client(make_server(events), protocol=era) as client:
        assert (await client.call_tool("stored", {})).text == "repository session"
        assert events == ["session closed"]


@pytest.mark.parametrize("era", ERAS)
async def test_the_managers_parameters_never_reach_the_schema(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server([]), protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert list(tools["query"].input_schema["properties"]) == ["sql"]
        assert list(tools["scan"].input_schema["properties"]) == ["table"]
        assert tools["stored"].input_schema["properties"] == {}


@pytest.mark.parametrize("era", ERAS)
async def test_a_sync_managers_exit_gets_the_handlers_exception(era: str) -> None:
    events: list[str] = []
    async with asyncio.timeout(WAIT), Client(make_server(events), protocol=era) as client:
        result = await client.call_tool("missing", {"table": "t"})
        assert result.is_error and result.text == "Error executing tool 'missing': t"
        assert events == [
            "open for tools/call",
            "cursor",
            "cursor saw LookupError('t')",
            "cursor closed",
            "rolled back after t",
            "closed",
        ]
