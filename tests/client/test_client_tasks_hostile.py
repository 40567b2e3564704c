"""What a broken or malicious task receiver gets from our client: clear errors for answers
that are not tasks, bounded memory for huge task ids, and a session that goes on."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from test_client_tasks import Book, Refuse, Scripted, task_json, text_result

from mcpkit import Client, McpError, PeerError
from mcpkit.protocol import codes
from mcpkit.protocol.pending import MAX_TASK_ID_LENGTH

MEGABYTE = 1024 * 1024


def answering(answer: Any, then: Book | None = None) -> Any:
    """A handler answering tools/call with `answer` and the rest from `then`."""

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        if method == "tools/call":
            return answer
        if then is None:
            raise Refuse(codes.METHOD_NOT_FOUND, method)
        return await then(peer, method, params)

    return handler


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"task": {"taskId": "t1", "status": "working"}}, "missing required field `createdAt`"),
        ({"task": task_json(status="sleeping")}, "Invalid enum value 'sleeping'"),
        ({"content": [], "isError": False}, "missing required field `task`"),
        ({"task": task_json(task_id=7)}, "Expected `str`, got `int`"),
    ],
)
async def test_an_answer_that_is_not_a_task_is_a_clear_error(answer: Any, says: str) -> None:
    async with Client(Scripted(answering(answer))) as client:
        with pytest.raises(PeerError, match="Invalid result for tools/call") as caught:
            await client.call_tool_as_task("slow")
        assert says in caught.value.message
        assert caught.value.code == codes.INVALID_PARAMS
        await client.ping()  # the session goes on


async def test_a_megabyte_task_id_is_refused_and_not_kept() -> None:
    huge = {"task": task_json(task_id="x" * MEGABYTE)}
    async with Client(Scripted(answering(huge))) as client:
        await _refused_huge(client)  # warm up: decoders, caches
        tracemalloc.start()
        try:
            after = []
            for _ in range(2):
                for _ in range(5):
                    await _refused_huge(client)
                gc.collect()
                after.append(tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
        # The last message's buffers stay until the next one; five more ids keep nothing.
        assert after[1] - after[0] < MEGABYTE // 2
        await client.ping()


async def _refused_huge(client: Client) -> None:
    with pytest.raises(PeerError, match=f"task id of {MEGABYTE} characters") as caught:
        await client.call_tool_as_task("slow", progress=lambda *a: None)
    assert f"1 to {MAX_TASK_ID_LENGTH}" in caught.value.message


async def test_an_empty_task_id_is_refused() -> None:
    async with Client(Scripted(answering({"task": task_json(task_id="")}))) as client:
        with pytest.raises(PeerError, match="task id of 0 characters"):
            await client.call_tool("slow", task=True)


async def test_a_status_about_another_task_is_refused() -> None:
    book = Book(["working"])

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        if method == "tasks/get":
            return task_json("someone-elses", status="completed")
        return await book(peer, method, params)

    async with Client(Scripted(handler)) as client:
        handle = await client.call_tool_as_task("slow")
        with pytest.raises(PeerError, match="about task 'someone-elses', not 't1'"):
            await handle.refresh()
        assert handle.status == "working"  # unchanged


async def test_a_result_of_the_wrong_shape_is_a_clear_error() -> None:
    book = Book(["completed"], outcome={"content": "not a list"}, status="completed")
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("slow")
        with pytest.raises(PeerError, match="Invalid result for tasks/result"):
            await handle.result(timeout=5)


async def test_malformed_status_notifications_are_ignored() -> None:
    book = Book(["working"])
    server = Scripted(book)
    async with Client(server) as client:
        handle = await client.call_tool_as_task("slow")
        for params in (
            {"taskId": "t1", "status": "completed"},  # fields missing: dropped by the session
            task_json(task_id="x" * 5000, status="completed"),  # no such live task
            task_json(status="exploded"),
            "not an object",
        ):
            await server.notify("notifications/tasks/status", params)
        await client.ping()
        assert handle.status == "working"
        assert (await handle.refresh()).status == "working"


async def test_a_stored_error_keeps_its_code_and_data() -> None:
    class Detailed(Refuse):
        pass

    book = Book(["failed"], outcome=Detailed(-32050, "quota exceeded"), status="failed")
    async with Client(Scripted(book)) as client:
        with pytest.raises(McpError) as caught:
            await client.call_tool("slow", task=True, timeout=5)
    assert (caught.value.code, caught.value.message) == (-32050, "quota exceeded")


async def test_a_failed_result_without_related_task_meta_is_still_returned() -> None:
    # The receiver MUST add related-task to the tasks/result answer; one that forgets it
    # costs its requestor nothing (the id is in the request already).
    outcome = text_result("ok")
    del outcome["_meta"]
    async with Client(Scripted(Book(["completed"], outcome=outcome, status="completed"))) as client:
        assert (await client.call_tool("slow", task=True, timeout=5)).text == "ok"
