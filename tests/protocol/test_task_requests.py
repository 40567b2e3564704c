"""Task-augmented requests at the protocol layer (basic/utilities/tasks, Capabilities): what
each side may send, how the answers decode, and the -32601 for undeclared task methods."""

from __future__ import annotations

from typing import Any

import pytest
from test_session import client_session, out, pump, send, server_session

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import ErrorReceived, ResponseReceived
from mcpkit.protocol.server_session import ServerSession
from mcpkit.types import CallToolResult, CreateTaskResult, GetTaskResult

TASK = {
    "taskId": "t1",
    "status": "working",
    "createdAt": "2025-11-25T10:30:00Z",
    "lastUpdatedAt": "2025-11-25T10:30:00Z",
    "ttl": 60000,
}


def connected(
    server_caps: dict[str, Any], **client_caps: Any
) -> tuple[ServerSession, ClientSession]:
    server, client = server_session(**server_caps), client_session(**client_caps)
    client.start()
    pump(client, server)
    pump(server, client)
    pump(client, server)  # notifications/initialized
    return server, client


def answer(server: ServerSession, client: ClientSession, result: Any) -> Any:
    (request,) = out(client)
    send(server, request)
    server.send_response(request["id"], result)
    (event,) = pump(server, client)
    return event


def test_a_task_augmented_call_decodes_as_create_task_result() -> None:
    server, client = connected({"tools": {}, "tasks": {"requests": {"tools": {"call": {}}}}})
    client.send_request("tools/call", {"name": "slow", "task": {"ttl": 60000}})
    event = answer(server, client, {"task": TASK})
    assert isinstance(event, ResponseReceived)
    assert isinstance(event.result, CreateTaskResult)
    assert event.result.task.task_id == "t1"


def test_result_type_overrides_the_methods_own() -> None:
    server, client = connected({"tools": {}, "tasks": {"requests": {"tools": {"call": {}}}}})
    client.send_request("tasks/result", {"taskId": "t1"}, result_type=CallToolResult)
    event = answer(server, client, {"content": [], "isError": False})
    assert isinstance(event.result, CallToolResult)


def test_a_task_is_not_asked_of_a_server_that_did_not_declare_it() -> None:
    _, client = connected({"tools": {}})
    with pytest.raises(LocalProtocolError, match=r"tasks\.requests\.tools\.call"):
        client.send_request("tools/call", {"name": "slow", "task": {}})
    with pytest.raises(LocalProtocolError, match=r"'tasks\.list'"):
        client.send_request("tasks/list")


def test_a_task_is_not_asked_of_a_client_that_did_not_declare_it() -> None:
    server, _ = connected(
        {"tools": {}}, sampling={}, tasks={"requests": {"elicitation": {"create": {}}}}
    )
    params = {"messages": [], "maxTokens": 5, "task": {}}
    with pytest.raises(LocalProtocolError, match=r"tasks\.requests\.sampling\.createMessage"):
        server.send_request("sampling/createMessage", params)
    del params["task"]
    server.send_request("sampling/createMessage", params)  # plain is fine


@pytest.mark.parametrize("method", ["tasks/list", "tasks/cancel"])
def test_task_methods_a_server_did_not_declare_are_method_not_found(method: str) -> None:
    server, _ = connected({"tools": {}, "tasks": {"requests": {"tools": {"call": {}}}}})
    events = send(server, {"jsonrpc": "2.0", "id": 9, "method": method, "params": {"taskId": "x"}})
    assert events == []
    (error,) = out(server)
    assert error["error"]["code"] == codes.METHOD_NOT_FOUND


def test_task_methods_of_a_server_without_tasks_are_method_not_found() -> None:
    server, _ = connected({"tools": {}})
    send(server, {"jsonrpc": "2.0", "id": 9, "method": "tasks/get", "params": {"taskId": "x"}})
    (error,) = out(server)
    assert error["error"]["code"] == codes.METHOD_NOT_FOUND


def test_a_created_task_status_is_a_task() -> None:
    server, client = connected({"tools": {}, "tasks": {"requests": {"tools": {"call": {}}}}})
    client.send_request("tasks/get", {"taskId": "t1"})
    event = answer(server, client, TASK)
    assert not isinstance(event, ErrorReceived)
    assert isinstance(event.result, GetTaskResult)
    assert event.result.status == "working"
