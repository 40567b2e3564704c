"""The client as a task requestor (basic/utilities/tasks), against a scripted raw server:
create -> working -> completed, input_required, failures, cancellation, unknown tasks, a
reconnecting client, and progress that outlives the `CreateTaskResult`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from mcpkit import Client, McpError
from mcpkit.client.task_requestor import ClientTask
from mcpkit.errors import ConnectionClosed, LocalProtocolError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.runtime.channel import MessageChannel

TASK_CAPS: dict[str, Any] = {
    "tools": {},
    "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
}
TERMINAL = ("completed", "failed", "cancelled")
RELATED = "io.modelcontextprotocol/related-task"


class Refuse(Exception):
    """Raised by a scripted handler: the server answers with this JSON-RPC error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Handler = Callable[["Scripted", str, dict[str, Any]], Awaitable[Any]]


class Scripted:
    """A raw MCP server: answers initialize with `capabilities`, hands every other request
    to `handler` (each in its own task, so tasks/result can block while tasks/get is
    answered) and records what came, with the loop's time, in `received`."""

    def __init__(self, handler: Handler, capabilities: dict[str, Any] | None = None) -> None:
        self.handler = handler
        self.capabilities = TASK_CAPS if capabilities is None else capabilities
        self.received: list[tuple[float, str, dict[str, Any]]] = []
        self.channel: MessageChannel | None = None
        self._ids = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._arrived = asyncio.Event()

    def methods(self) -> list[str]:
        return [method for _, method, _ in self.received]

    def times(self, method: str) -> list[float]:
        return [at for at, m, _ in self.received if m == method]

    async def arrival(self, method: str, count: int = 1) -> None:
        """Return once `count` requests or notifications `method` came (at most 10 s)."""
        async with asyncio.timeout(10):
            while self.methods().count(method) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def serve(self, channel: MessageChannel) -> None:
        self.channel = channel
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                message = msgspec.json.decode(await channel.receive())
                if "method" not in message:
                    waiter = self._waiting.pop(message.get("id"), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(message)
                    continue
                params = message.get("params") or {}
                now = asyncio.get_running_loop().time()
                self.received.append((now, message["method"], params))
                self._arrived.set()
                if "id" in message:
                    job = asyncio.get_running_loop().create_task(self._answer(message))
                    running.add(job)
                    job.add_done_callback(running.discard)
        except ConnectionClosed:
            pass
        finally:
            for job in running:
                job.cancel()

    async def _answer(self, message: dict[str, Any]) -> None:
        rid, method = message["id"], message["method"]
        try:
            if method == "initialize":
                result: Any = {
                    "protocolVersion": message["params"]["protocolVersion"],
                    "capabilities": self.capabilities,
                    "serverInfo": {"name": "scripted", "version": "0"},
                }
            elif method == "ping":
                result = {}
            elif method == "server/discover":  # a 2025-11-25 server: the client falls back
                raise Refuse(-32601, "Method not found: server/discover")
            else:
                result = await self.handler(self, method, message.get("params") or {})
        except Refuse as refusal:
            error = {"code": refusal.code, "message": refusal.message}
            await self.send({"jsonrpc": "2.0", "id": rid, "error": error})
            return
        await self.send({"jsonrpc": "2.0", "id": rid, "result": result})

    async def send(self, message: Any) -> None:
        assert self.channel is not None
        await self.channel.send(msgspec.json.encode(message))

    async def notify(self, method: str, params: Any) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any) -> Any:
        """Ask the client something and return its whole response."""
        self._ids += 1
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._ids] = waiter
        await self.send({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        async with asyncio.timeout(10):
            return await waiter


def task_json(task_id: str = "t1", status: str = "working", **extra: Any) -> dict[str, Any]:
    return {
        "taskId": task_id,
        "status": status,
        "createdAt": "2025-11-25T10:30:00Z",
        "lastUpdatedAt": "2025-11-25T10:30:00Z",
        "ttl": 60000,
        **extra,
    }


def text_result(text: str, *, is_error: bool = False, task_id: str = "t1") -> dict[str, Any]:
    return {
        "content": [{"type": "text", "text": text}],
        "isError": is_error,
        "_meta": {RELATED: {"taskId": task_id}},
    }


class Book:
    """One task kept by the scripted server. Each tasks/get takes the next status of
    `script` (the last one stays); tasks/result blocks until the task ends, then answers
    `outcome` (a result, or a Refuse for a stored JSON-RPC error)."""

    def __init__(
        self,
        script: list[str] | None = None,
        outcome: dict[str, Any] | Refuse | None = None,
        task_id: str = "t1",
        **fields: Any,
    ) -> None:
        self.script = list(script or ["completed"])
        self.outcome: dict[str, Any] | Refuse = outcome or text_result("done", task_id=task_id)
        self.task = task_json(task_id, **fields)
        self.ended = asyncio.Event()
        if self.task["status"] in TERMINAL:
            self.ended.set()
        self.on_input_required: Handler | None = None

    def set_status(self, status: str) -> None:
        self.task = {**self.task, "status": status}
        if status in TERMINAL:
            self.ended.set()

    async def __call__(self, peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        if method == "tools/call":
            return {"task": self.task}
        if params.get("taskId") != self.task["taskId"]:
            raise Refuse(codes.INVALID_PARAMS, "Failed to retrieve task: Task not found")
        if method == "tasks/get":
            if self.task["status"] not in TERMINAL:
                self.set_status(self.script.pop(0) if len(self.script) > 1 else self.script[0])
            return self.task
        if method == "tasks/cancel":
            if self.task["status"] in TERMINAL:
                raise Refuse(
                    codes.INVALID_PARAMS,
                    f"Cannot cancel task: already in terminal status '{self.task['status']}'",
                )
            self.outcome = Refuse(codes.INVALID_REQUEST, "the task was cancelled")
            self.set_status("cancelled")
            return self.task
        if method == "tasks/result":
            if self.task["status"] == "input_required" and self.on_input_required is not None:
                await self.on_input_required(peer, method, params)
            await self.ended.wait()
            if isinstance(self.outcome, Refuse):
                raise self.outcome
            return self.outcome
        raise Refuse(codes.METHOD_NOT_FOUND, f"Method not found: {method}")


async def test_a_task_goes_from_working_to_completed_and_its_result_is_the_tools() -> None:
    book = Book(["working", "working", "completed"], pollInterval=10)
    server = Scripted(book)
    async with Client(server) as client:
        handle = await client.call_tool_as_task("slow", {"n": 1}, ttl=30000)
        assert (handle.id, handle.status, handle.done) == ("t1", "working", False)
        final = await handle.wait(timeout=10)
        assert final.status == "completed" and handle.done
        result = await handle.result(timeout=10)
        assert result.text == "done" and not result.is_error
        assert await handle.result() is result  # kept: asked once
    call = next(params for _, m, params in server.received if m == "tools/call")
    assert call["task"] == {"ttl": 30000} and call["arguments"] == {"n": 1}
    assert server.methods().count("tasks/get") == 3
    assert server.methods().count("tasks/result") == 1


async def test_call_tool_with_task_returns_what_a_plain_call_would() -> None:
    book = Book(["working"], outcome=text_result("42"))

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        answer = await book(peer, method, params)
        if method == "tools/call":  # created working, and done right after
            book.set_status("completed")
        return answer

    server = Scripted(handler)
    async with Client(server) as client:
        result = await client.call_tool("answer", task=True, timeout=10)
        assert result.text == "42" and result.is_error is False
        assert await client.call_tool("answer", task=60000) == result
    calls = [params for _, m, params in server.received if m == "tools/call"]
    assert [c["task"] for c in calls] == [{}, {"ttl": 60000}]


async def test_input_required_opens_tasks_result_whose_elicitation_is_answered() -> None:
    book = Book(["input_required", "input_required", "completed"], pollInterval=10)
    asked: list[Any] = []

    async def elicit(peer: Scripted, method: str, params: dict[str, Any]) -> None:
        answer = await peer.request(
            "elicitation/create",
            {
                "mode": "form",
                "message": "Your name?",
                "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
                "_meta": {RELATED: {"taskId": "t1"}},
            },
        )
        asked.append(answer["result"])
        book.outcome = text_result(f"hello {answer['result']['content']['name']}")
        book.set_status("completed")

    book.on_input_required = elicit
    server = Scripted(book)
    async with Client(
        server, elicitation_handler=lambda p: {"action": "accept", "content": {"name": "Ada"}}
    ) as client:
        handle = await client.call_tool_as_task("greet")
        assert (await handle.wait(timeout=10)).status == "completed"
        assert (await handle.result(timeout=10)).text == "hello Ada"
    # The answer names the task too ("Associating Task-Related Messages").
    related = {"io.modelcontextprotocol/related-task": {"taskId": "t1"}}
    assert asked == [{"action": "accept", "content": {"name": "Ada"}, "_meta": related}]
    methods = server.methods()
    assert methods.index("tasks/result") > methods.index("tasks/get")  # opened on input_required


async def test_a_failed_tool_is_an_error_result_not_an_exception() -> None:
    book = Book(["failed"], outcome=text_result("boom", is_error=True), statusMessage="boom")
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("explode")
        final = await handle.wait(timeout=10)
        assert (final.status, final.status_message) == ("failed", "boom")
        result = await handle.result(timeout=10)
        assert result.is_error and result.text == "boom"


async def test_a_stored_json_rpc_error_raises_as_the_plain_call_would() -> None:
    book = Book(["failed"], outcome=Refuse(codes.INTERNAL_ERROR, "database down"))
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("query")
        await handle.wait(timeout=10)
        for _ in range(2):  # the outcome is kept: asking again raises the same
            with pytest.raises(McpError, match="database down") as caught:
                await handle.result(timeout=10)
            assert caught.value.code == codes.INTERNAL_ERROR
        with pytest.raises(McpError, match="database down"):
            await client.call_tool("query", task=True, timeout=10)


async def test_cancel_then_a_second_cancel_is_refused_with_invalid_params() -> None:
    book = Book(["working"])
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("slow")
        assert (await handle.cancel()).status == "cancelled"
        assert handle.done
        assert (await handle.wait(timeout=1)).status == "cancelled"  # no poll needed
        with pytest.raises(McpError, match="already in terminal status") as caught:
            await handle.cancel()
        assert caught.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as refused:
            await client.cancel_task("t1")
        assert refused.value.code == codes.INVALID_PARAMS


async def test_an_unknown_or_expired_task_raises_invalid_params() -> None:
    book = Book(["working"])
    async with Client(Scripted(book)) as client:
        handle = await client.call_tool_as_task("slow")
        book.task = task_json("other")  # the server purged t1 (its ttl passed)
        for call in (
            handle.refresh(),
            handle.result(timeout=5),
            client.get_task("t1"),
            client.task_result("t1", timeout=5),
            client.cancel_task("t1"),
        ):
            with pytest.raises(McpError, match="Task not found") as caught:
                await call
            assert caught.value.code == codes.INVALID_PARAMS


async def test_a_reconnecting_client_fetches_a_result_by_id() -> None:
    book = Book(["working"], outcome=text_result("kept"))
    server = Scripted(book)
    async with Client(server) as first:
        task_id = (await first.call_tool_as_task("slow")).id
    book.set_status("completed")
    async with Client(server) as second:
        handle = await second.task_handle(task_id)
        assert handle.status == "completed"
        assert (await handle.result(timeout=5)).text == "kept"
        assert (await second.task_result(task_id, timeout=5)).text == "kept"
        assert (await second.get_task(task_id)).status == "completed"


async def test_list_tasks_gathers_every_page_and_stops_on_a_repeated_cursor() -> None:
    pages = {
        None: {"tasks": [task_json("a")], "nextCursor": "p2"},
        "p2": {"tasks": [task_json("b"), task_json("c")], "nextCursor": "p3"},
        "p3": {"tasks": [task_json("d")], "nextCursor": "p2"},  # a loop: followed once
    }

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        assert method == "tasks/list"
        return pages[params.get("cursor")]

    async with Client(Scripted(handler)) as client:
        assert [t.task_id for t in await client.list_tasks()] == ["a", "b", "c", "d"]
        page = await client.list_tasks_page("p3")
        assert page.next_cursor == "p2"
        assert len(await client.list_tasks(max_pages=2)) == 3


async def test_a_call_that_times_out_cancels_its_task() -> None:
    book = Book(["working"])
    server = Scripted(book)
    async with Client(server) as client:
        with pytest.raises(RequestTimeout, match="did not end within"):
            await client.call_tool("slow", task=True, timeout=0.05)
        assert book.task["status"] == "cancelled"
    assert "tasks/cancel" in server.methods()


async def test_a_server_without_tasks_is_never_sent_one() -> None:
    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        raise AssertionError(f"nothing should be sent, got {method}")

    async with Client(Scripted(handler, {"tools": {}})) as client:
        with pytest.raises(LocalProtocolError, match=r"tasks\.requests\.tools\.call"):
            await client.call_tool("slow", task=True)
        with pytest.raises(LocalProtocolError, match=r"tasks"):
            await client.get_task("t1")


async def test_a_handle_used_as_a_context_gives_up_its_result_request() -> None:
    book = Book(["working"])
    server = Scripted(book)
    async with Client(server) as client:
        async with await client.call_tool_as_task("slow") as handle:
            waiting = asyncio.get_running_loop().create_task(handle.result())
            await server.arrival("tasks/result")
        assert isinstance(handle, ClientTask)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        book.set_status("completed")
        assert (await handle.result(timeout=5)).text == "done"  # asked afresh


async def test_a_cancelled_call_cancels_its_task() -> None:
    book = Book(["working"])
    server = Scripted(book)
    async with Client(server) as client:
        call = asyncio.get_running_loop().create_task(client.call_tool("slow", task=True))
        await server.arrival("tasks/result")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert book.task["status"] == "cancelled"  # told before the cancellation went on


async def test_the_creation_answers_meta_and_a_bad_task_option() -> None:
    text = "The forecast is being computed; it takes a minute."
    immediate = {"io.modelcontextprotocol/model-immediate-response": text}

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        return {"task": task_json(), "_meta": immediate}

    async with Client(Scripted(handler)) as client:
        handle = await client.call_tool_as_task("forecast")
        assert handle.immediate_response == text and handle.meta == immediate
        with pytest.raises(TypeError, match="task must be True, a ttl in milliseconds"):
            await client.call_tool("forecast", task="yes")  # type: ignore[arg-type]


def late(book: Book, after: float) -> Handler:
    """`book`, whose tools/call is answered only `after` seconds after it came."""

    async def handler(peer: Scripted, method: str, params: dict[str, Any]) -> Any:
        if method == "tools/call":
            await asyncio.sleep(after)
        return await book(peer, method, params)

    return handler


@pytest.mark.parametrize("how", ["call_tool", "call_tool_as_task"])
async def test_a_task_made_after_the_clients_timeout_is_cancelled_with_tasks_cancel(
    how: str,
) -> None:
    # The client's own request timeout (not the caller's cancellation) passed before the
    # server's task answer came: the client sent notifications/cancelled, which must not be
    # used for a task-augmented request (basic/utilities/cancellation), dropped the late
    # answer, and the server's task was left working. It waits (_CANCEL_WAIT) for the
    # answer as a cancelled caller does, cancels the task it names, then raises.
    book = Book(["working"])
    server = Scripted(late(book, 0.3))
    async with asyncio.timeout(10), Client(server, timeout=0.1) as client:
        with pytest.raises(RequestTimeout, match=r"tools/call .*within 0\.1 s"):
            if how == "call_tool":
                await client.call_tool("slow", task=True)
            else:
                await client.call_tool_as_task("slow")
        assert book.task["status"] == "cancelled"  # told before the timeout was raised
        assert "notifications/cancelled" not in server.methods()
        await client.ping()


async def test_a_task_answer_that_never_comes_is_cancelled_as_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No answer within the wait after the timeout: no task is known, so the request itself
    # is cancelled (notifications/cancelled), and the timeout raised.
    monkeypatch.setattr("mcpkit.runtime.task_augmented.CANCEL_WAIT", 0.1)
    server = Scripted(late(Book(["working"]), 60))
    async with asyncio.timeout(10), Client(server, timeout=0.1) as client:
        with pytest.raises(RequestTimeout, match=r"tools/call .*within 0\.1 s"):
            await client.call_tool("slow", task=True)
        await server.arrival("notifications/cancelled")
        assert "tasks/cancel" not in server.methods()
        await client.ping()


async def passing(request: Any, params: Any, call_next: Callable[[Any], Awaitable[Any]]) -> Any:
    """A client middleware layer that changes nothing (the path with layers is taken)."""
    return await call_next(params)


RAW_TASK_CALL: dict[str, Any] = {"name": "slow", "arguments": {}, "task": {"ttl": 60000}}


@pytest.mark.parametrize(
    ("result_type", "layers"),
    [(None, False), (dict, False), (msgspec.Raw, False), (None, True)],
    ids=["decoded", "dict", "raw", "middleware"],
)
async def test_a_raw_task_request_that_times_out_cancels_its_task_with_tasks_cancel(
    result_type: Any, layers: bool
) -> None:
    # A task-augmented request sent with Client.request (not call_tool) timed out through the
    # connection's deadline: notifications/cancelled went out, which must not be used for a
    # task-augmented request (basic/utilities/cancellation), the late CreateTaskResult was
    # dropped, and the server's task stayed working. It goes the way of call_tool(task=...):
    # the answer is waited for, the task it names cancelled, then the timeout raised.
    book = Book(["working"])
    server = Scripted(late(book, 0.3))
    middleware = [passing] if layers else []
    async with asyncio.timeout(10), Client(server, middleware=middleware) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RequestTimeout, match=r"tools/call .*within 0\.1 s"):
            await client.request("tools/call", RAW_TASK_CALL, timeout=0.1, result_type=result_type)
        assert loop.time() - started < 5  # the answer came 0.3 s in, well within CANCEL_WAIT
        assert book.task["status"] == "cancelled"  # told before the timeout was raised
        cancels = [params for _, method, params in server.received if method == "tasks/cancel"]
        assert cancels == [{"taskId": "t1"}]
        assert "notifications/cancelled" not in server.methods()
        await client.ping()


async def test_a_raw_task_request_under_the_clients_own_timeout_cancels_its_task() -> None:
    # The client's default timeout, not the call's: the same.
    book = Book(["working"])
    server = Scripted(late(book, 0.3))
    async with asyncio.timeout(10), Client(server, timeout=0.1) as client:
        with pytest.raises(RequestTimeout, match=r"tools/call .*within 0\.1 s"):
            await client.request("tools/call", RAW_TASK_CALL)
        assert book.task["status"] == "cancelled"
        assert "notifications/cancelled" not in server.methods()


async def test_a_cancelled_raw_task_request_cancels_its_task_with_tasks_cancel() -> None:
    # The caller cancelled before the CreateTaskResult came: its task is cancelled with
    # tasks/cancel once the answer names it, and no notifications/cancelled is sent.
    book = Book(["working"])
    server = Scripted(late(book, 0.3))
    async with asyncio.timeout(10), Client(server) as client:
        call = asyncio.get_running_loop().create_task(client.request("tools/call", RAW_TASK_CALL))
        await server.arrival("tools/call")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert book.task["status"] == "cancelled"  # told before the cancellation went on
        assert "notifications/cancelled" not in server.methods()
        await client.ping()


async def test_a_raw_task_request_answered_in_time_returns_the_task() -> None:
    book = Book(["working"])
    async with asyncio.timeout(10), Client(Scripted(book)) as client:
        created = await client.request("tools/call", RAW_TASK_CALL, timeout=5)
        assert created.task.task_id == "t1" and created.task.status == "working"
        assert book.task["status"] == "working"  # nothing cancelled


async def test_a_raw_task_answer_that_never_comes_is_cancelled_as_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No answer within CANCEL_WAIT after the timeout: no task is known, so the request itself
    # is cancelled (notifications/cancelled), as a plain request's would be.
    monkeypatch.setattr("mcpkit.runtime.task_augmented.CANCEL_WAIT", 0.1)
    server = Scripted(late(Book(["working"]), 60))
    async with asyncio.timeout(10), Client(server) as client:
        with pytest.raises(RequestTimeout, match=r"tools/call .*within 0\.1 s"):
            await client.request("tools/call", RAW_TASK_CALL, timeout=0.1)
        await server.arrival("notifications/cancelled")
        assert "tasks/cancel" not in server.methods()
