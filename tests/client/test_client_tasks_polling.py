"""How a task handle polls (basic/utilities/tasks, Getting Tasks): `pollInterval` honoured,
a hostile 0 or negative one floored, status notifications waking `wait()` early, and progress
that outlives the `CreateTaskResult`. On the fake clock: the times are virtual, so the gaps
between polls are the client's choice, not the machine's speed."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from test_client_tasks import Book, Scripted, task_json

from mcpkit import Client
from mcpkit.client.task_requestor import DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL, MIN_POLL_INTERVAL
from mcpkit.errors import RequestTimeout


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


async def test_poll_interval_is_honoured(fake_clock: asyncio.AbstractEventLoop) -> None:
    book = Book(["working", "working", "completed"], pollInterval=2500)
    server = Scripted(book)
    async with Client(server) as client:
        handle = await client.call_tool_as_task("slow")
        await handle.wait()
    polls = server.times("tasks/get")
    assert len(polls) == 3
    created = server.times("tools/call")[0]
    assert all(gap >= 2.5 for gap in gaps([created, *polls]))


@pytest.mark.parametrize("interval", [0, -5000, None, 10**12])
async def test_poll_interval_is_bounded(
    fake_clock: asyncio.AbstractEventLoop, interval: int | None
) -> None:
    fields = {} if interval is None else {"pollInterval": interval}
    book = Book(["working"] * 5 + ["completed"], **fields)
    server = Scripted(book)
    async with Client(server) as client:
        await (await client.call_tool_as_task("slow")).wait()
    expected = {0: MIN_POLL_INTERVAL, -5000: MIN_POLL_INTERVAL, None: DEFAULT_POLL_INTERVAL}
    want = expected.get(interval, MAX_POLL_INTERVAL)
    polls = [server.times("tools/call")[0], *server.times("tasks/get")]
    assert len(polls) == 7
    assert all(want - 1e-6 <= gap <= want + 0.01 for gap in gaps(polls))


async def test_a_status_notification_wakes_wait(fake_clock: asyncio.AbstractEventLoop) -> None:
    book = Book(["working"], pollInterval=3_600_000)
    server = Scripted(book)
    async with Client(server) as client:
        handle = await client.call_tool_as_task("slow")
        waiting = asyncio.get_running_loop().create_task(handle.wait())
        book.set_status("completed")
        sent = fake_clock.time()
        await server.notify("notifications/tasks/status", book.task)
        final = await waiting
        assert final.status == "completed"
        assert fake_clock.time() - sent < MIN_POLL_INTERVAL  # not at the next poll
        # A late, stale notification does not move a task out of its terminal status.
        await server.notify("notifications/tasks/status", task_json(status="working"))
        await client.ping()
        assert handle.status == "completed"
    assert server.times("tasks/get") == []  # woken without a poll


async def test_notifications_never_make_wait_poll_faster_than_the_floor(
    fake_clock: asyncio.AbstractEventLoop,
) -> None:
    book = Book(["input_required", "working"] * 20 + ["completed"], pollInterval=60_000)
    server = Scripted(book)
    async with Client(server) as client:
        handle = await client.call_tool_as_task("flappy")
        waiting = asyncio.get_running_loop().create_task(handle.wait())
        for i in range(40):  # a flood of status changes, each one waking wait()
            status = "working" if i % 2 else "input_required"
            await server.notify("notifications/tasks/status", task_json(status=status))
        book.set_status("completed")
        await server.notify("notifications/tasks/status", book.task)
        await waiting
    assert all(gap >= MIN_POLL_INTERVAL - 1e-6 for gap in gaps(server.times("tasks/get")))


async def test_wait_gives_up_after_its_timeout(fake_clock: asyncio.AbstractEventLoop) -> None:
    book = Book(["working"], pollInterval=1000)
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("forever")
        with pytest.raises(RequestTimeout, match=r"did not end within 5 s \(last status"):
            await handle.wait(timeout=5)
        with pytest.raises(RequestTimeout, match="call result\\(\\) again"):
            await handle.result(timeout=5)


async def test_progress_after_the_create_task_result_reaches_the_callback() -> None:
    book = Book(["working"])
    server = Scripted(book)
    seen: list[tuple[float, float | None, str | None]] = []
    reported = asyncio.Event()

    def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))
        if len(seen) == 2:
            reported.set()

    async with Client(server) as client:
        handle = await client.call_tool_as_task("slow", progress=on_progress)
        token = server.received[-1][2]["_meta"]["progressToken"]
        for step in (1, 2):
            params = {"progressToken": token, "progress": step, "total": 2, "message": "m"}
            await server.notify("notifications/progress", params)
        async with asyncio.timeout(10):
            await reported.wait()
        assert client.session.has_progress(token)
        book.set_status("completed")
        await handle.refresh()  # seen ended: the token is dropped
        assert not client.session.has_progress(token)
        late = {"progressToken": token, "progress": 3, "total": 2}
        await server.notify("notifications/progress", late)
        await client.ping()
    assert seen == [(1, 2, "m"), (2, 2, "m")]


async def test_kept_progress_tokens_are_bounded() -> None:
    book = Book(["working"])
    server = Scripted(book)
    async with Client(server) as client:
        cap = client.session.max_kept_progress = 8
        handles = []
        tokens: dict[str, Any] = {}  # task id -> the progress token of the call that made it
        for i in range(cap + 5):
            book.task = task_json(f"t{i}")
            handle = await client.call_tool_as_task("slow", progress=lambda *a: None)
            handles.append(handle)
            tokens[handle.id] = server.received[-1][2]["_meta"]["progressToken"]
        session = client.session
        kept = [h for h in handles if session.has_progress(tokens[h.id])]
        assert [h.id for h in kept] == [f"t{i}" for i in range(5, cap + 5)]
        for handle in handles:
            await handle.aclose()
        assert not any(session.has_progress(tokens[h.id]) for h in handles)
