"""Server middleware (mcpkit.server.middleware): layers around every request, end to end
through a raw peer and the real client over the in-memory pair."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import msgspec
import pytest

from mcpkit import Context, Server
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.middleware import CallNext, RequestLogging, Timing
from mcpkit.testing import raw_session

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="")


def make_server(**options: Any) -> Server:
    server = Server("mw", **options)

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def boom() -> int:
        raise RuntimeError("tool broke")

    @server.tool(task=True)
    async def marked() -> str:
        return seen.get()

    return server


def ok(reply: dict[str, Any]) -> Any:
    assert "result" in reply, reply
    return reply["result"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert "error" in reply, reply
    return reply["error"]


def add_call(a: int = 1, b: int = 2) -> dict[str, Any]:
    return {"name": "add", "arguments": {"a": a, "b": b}}


async def test_first_added_is_outermost() -> None:
    trail: list[str] = []

    def layer(name: str) -> Any:
        async def mw(ctx: Context, params: Any, call_next: CallNext) -> Any:
            trail.append(f"{name}>")
            result = await call_next(params)
            trail.append(f"<{name}")
            return result

        return mw

    server = make_server(middleware=[layer("a")])
    server.add_middleware(layer("b"))
    async with raw_session(server) as peer:
        ok(await peer.request("tools/call", add_call()))
    assert trail == ["a>", "b>", "<b", "<a"]


async def test_a_layer_changes_params_and_the_result() -> None:
    async def double_a(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            args = msgspec.json.decode(params.arguments)
            args["a"] *= 2
            params = msgspec.structs.replace(
                params, arguments=msgspec.Raw(msgspec.json.encode(args))
            )
        return await call_next(params)

    async def tag(ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        if ctx.method == "tools/list":
            result = msgspec.structs.replace(result, tools=result.tools[:1])
        return result

    async with raw_session(make_server(middleware=[tag, double_a])) as peer:
        assert ok(await peer.request("tools/call", add_call(5, 1)))["structuredContent"] == {
            "result": 11
        }
        assert len(ok(await peer.request("tools/list"))["tools"]) == 1


async def test_a_layer_raising_mcp_error_answers_with_it() -> None:
    called = asyncio.Event()

    async def deny(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            raise McpError(codes.INVALID_PARAMS, "not today", {"why": "policy"})
        return await call_next(params)

    server = make_server(middleware=[deny])

    @server.tool()
    async def watched() -> None:
        called.set()

    async with raw_session(server) as peer:
        err = error_of(await peer.request("tools/call", {"name": "watched"}))
        assert err == {
            "code": codes.INVALID_PARAMS,
            "message": "not today",
            "data": {"why": "policy"},
        }
        ok(await peer.request("tools/list"))  # the session goes on
    assert not called.is_set()


@pytest.mark.parametrize("mask", [False, True])
async def test_an_exception_in_a_layer_is_answered_like_a_handlers(mask: bool) -> None:
    async def broken(ctx: Context, params: Any, call_next: CallNext) -> Any:
        raise ValueError("layer broke")

    async with raw_session(make_server(middleware=[broken], mask_error_details=mask)) as peer:
        err = error_of(await peer.request("tools/list"))
        assert err["code"] == codes.INTERNAL_ERROR
        assert ("layer broke" in err["message"]) is not mask
        ok(await peer.request("ping"))


async def test_cancellation_passes_through_the_layers() -> None:
    started, layer_cancelled = asyncio.Event(), asyncio.Event()

    async def watch(ctx: Context, params: Any, call_next: CallNext) -> Any:
        try:
            return await call_next(params)
        except asyncio.CancelledError:
            layer_cancelled.set()
            raise

    server = make_server(middleware=[watch])

    @server.tool()
    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    async with raw_session(server) as peer:
        await peer.send(
            {"jsonrpc": "2.0", "id": "h", "method": "tools/call", "params": {"name": "hang"}}
        )
        await asyncio.wait_for(started.wait(), 5)
        await peer.notify("notifications/cancelled", {"requestId": "h"})
        await asyncio.wait_for(layer_cancelled.wait(), 5)
        ok(await peer.request("ping"))


async def test_a_task_runs_in_the_context_of_its_tools_call_chain() -> None:
    methods: list[str] = []

    async def mark(ctx: Context, params: Any, call_next: CallNext) -> Any:
        methods.append(ctx.method)
        if ctx.method == "tools/call":
            seen.set(f"marked {params.name}")
        return await call_next(params)

    async with raw_session(make_server(middleware=[mark])) as peer:
        created = ok(
            await peer.request("tools/call", {"name": "marked", "arguments": {}, "task": {}})
        )
        tid = created["task"]["taskId"]
        result = ok(await peer.request("tasks/result", {"taskId": tid}))
        assert result["content"] == [{"type": "text", "text": "marked marked"}]
    assert methods == ["tools/call", "tasks/result"]


async def test_lifecycle_methods_do_not_reach_middleware() -> None:
    methods: list[str] = []

    async def record(ctx: Context, params: Any, call_next: CallNext) -> Any:
        methods.append(ctx.method)
        return await call_next(params)

    async with raw_session(make_server(middleware=[record]), initialize=False) as peer:
        await peer.initialize()
        ok(await peer.request("ping"))
        ok(await peer.request("tools/list"))
    assert methods == ["tools/list"]


async def test_timing_reports_every_request_however_it_ended() -> None:
    reports: list[tuple[str, float]] = []
    ticks = iter(range(100))
    timing = Timing(lambda m, s: reports.append((m, s)), clock=lambda: float(next(ticks)))
    async with raw_session(make_server(middleware=[timing])) as peer:
        ok(await peer.request("tools/call", add_call()))
        error_of(await peer.request("tools/call", {"name": "nope"}))
    assert reports == [("tools/call", 1.0), ("tools/call", 1.0)]


async def test_request_logging_writes_one_record_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "s3cret-argument"
    server = make_server(middleware=[RequestLogging()])

    @server.tool()
    async def echo(text: str) -> str:
        return text

    with caplog.at_level(logging.INFO, logger="mcpkit.requests"):
        async with raw_session(server) as peer:
            ok(await peer.request("tools/call", {"name": "echo", "arguments": {"text": secret}}))
            error_of(await peer.request("tools/call", {"name": "nope"}))
            ok(await peer.request("tools/call", {"name": "boom"}))
    records = [r for r in caplog.records if r.name == "mcpkit.requests"]
    fields = [r.mcp for r in records]  # type: ignore[attr-defined]
    assert [(f["method"], f["target"], f["outcome"]) for f in fields] == [
        ("tools/call", "echo", "ok"),
        ("tools/call", "nope", "error"),
        ("tools/call", "boom", "tool_error"),
    ]
    assert fields[1]["code"] == codes.INVALID_PARAMS
    assert all(f["session_id"] is None and f["duration_ms"] >= 0 for f in fields)
    assert all(secret not in r.getMessage() and secret not in str(r.mcp) for r in records)  # type: ignore[attr-defined]


async def test_request_logging_may_include_arguments(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="mcpkit.requests"):
        async with raw_session(
            make_server(middleware=[RequestLogging(include_arguments=True)])
        ) as peer:
            ok(await peer.request("tools/call", add_call(3, 4)))
    (record,) = [r for r in caplog.records if r.name == "mcpkit.requests"]
    assert msgspec.json.decode(record.mcp["arguments"]) == {"a": 3, "b": 4}  # type: ignore[attr-defined]
