"""The session rule under the client's task progress, with plain calls (no loop, no I/O): "The
progressToken provided in the initial request remains valid throughout the task lifetime"
(basic/utilities/tasks), until released, and a bounded number of such tokens."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import ErrorReceived, ProgressReceived, ResponseReceived
from mcpkit.protocol.pending import MAX_TASK_ID_LENGTH
from mcpkit.types import ClientCapabilities, CreateTaskResult, Implementation

TASK_CAPS = {"tools": {}, "tasks": {"cancel": {}, "requests": {"tools": {"call": {}}}}}


def connected() -> ClientSession:
    session = ClientSession(
        Implementation(name="c", version="1"), msgspec.convert({}, ClientCapabilities)
    )
    rid = session.start("2025-11-25")
    answer = {
        "protocolVersion": "2025-11-25",
        "capabilities": TASK_CAPS,
        "serverInfo": {"name": "s", "version": "1"},
    }
    receive(session, {"jsonrpc": "2.0", "id": rid, "result": answer})
    session.data_to_send()
    return session


def receive(session: ClientSession, message: Any) -> list[Any]:
    return session.receive_data(json.dumps(message).encode())


def task(task_id: str) -> dict[str, Any]:
    return {
        "taskId": task_id,
        "status": "working",
        "createdAt": "2025-11-25T10:30:00Z",
        "lastUpdatedAt": "2025-11-25T10:30:00Z",
        "ttl": None,
    }


def create(session: ClientSession, task_id: str) -> int:
    """Send a task-augmented tools/call asking for progress and answer it with a task."""
    params = {"name": "slow", "task": {}}
    rid = session.send_request("tools/call", params, progress=True)
    session.data_to_send()
    (event,) = receive(session, {"jsonrpc": "2.0", "id": rid, "result": {"task": task(task_id)}})
    assert isinstance(event, ResponseReceived) and isinstance(event.result, CreateTaskResult)
    return int(rid)


def progress(session: ClientSession, token: int, value: float) -> list[Any]:
    params = {"progressToken": token, "progress": value}
    return receive(
        session, {"jsonrpc": "2.0", "method": "notifications/progress", "params": params}
    )


def test_progress_after_the_create_task_result_is_reported_until_released() -> None:
    session = connected()
    rid = create(session, "t1")
    (event,) = progress(session, rid, 1)
    assert event == ProgressReceived(rid, 1)
    assert session.has_progress(rid)
    assert session.release_task_progress("t1") == rid
    assert progress(session, rid, 2) == []
    assert session.release_task_progress("t1") is None  # twice is harmless


def test_a_plain_answer_or_an_error_ends_the_token_as_before() -> None:
    session = connected()
    rid = session.send_request("tools/call", {"name": "quick"}, progress=True)
    receive(session, {"jsonrpc": "2.0", "id": rid, "result": {"content": []}})
    assert not session.has_progress(rid) and progress(session, int(rid), 1) == []
    rid = session.send_request("tools/call", {"name": "slow", "task": {}}, progress=True)
    (refused,) = receive(
        session, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no"}}
    )
    assert isinstance(refused, ErrorReceived) and not session.has_progress(rid)


def test_kept_tokens_are_bounded_oldest_first() -> None:
    session = connected()
    session.max_kept_progress = 3
    rids = [create(session, f"t{i}") for i in range(5)]
    assert [session.has_progress(rid) for rid in rids] == [False, False, True, True, True]
    assert progress(session, rids[0], 1) == []


def test_an_over_long_task_id_keeps_nothing() -> None:
    session = connected()
    rid = create(session, "x" * (MAX_TASK_ID_LENGTH + 1))
    assert not session.has_progress(rid)


def test_a_reused_task_id_keeps_only_the_newer_requests_token() -> None:
    session = connected()
    first, second = create(session, "same"), create(session, "same")
    assert not session.has_progress(first) and session.has_progress(second)
    assert session.release_task_progress("same") == second
