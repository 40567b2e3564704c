"""Two `mcpkit run` processes behind a per-request round-robin balancer, with no store: a
2026-07-28 client's tool call that elicits, then samples, then returns, crosses both
processes (basic/patterns/mrtr: the state travels in the sealed requestState, which both
processes open with the key they share through MCPKIT_REQUEST_STATE_KEY)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from _processes import starts
from _running import REPO, mcpkit, running

SERVER = str(REPO / "tests" / "http" / "_round_trip_server.py")
KEY = {"MCPKIT_REQUEST_STATE_KEY": "two-processes-share-this-key-0123456789"}
WAIT = 30.0


class RoundRobin:
    """An ASGI app that sends each HTTP request to the next of `backends`, body and answer
    passed through as they are (what nginx's default upstream does per request)."""

    def __init__(self, backends: list[str]) -> None:
        self.next = itertools.cycle(backends)
        self.seen: list[str] = []
        self.client = httpx.AsyncClient(timeout=WAIT)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        backend = next(self.next)
        self.seen.append(backend)
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k != b"host"]
        answer = await self.client.request(scope["method"], backend, content=body, headers=headers)
        passed = [
            (k.encode(), v.encode())
            for k, v in answer.headers.items()
            if k not in ("content-length", "transfer-encoding")
        ]
        await send({"type": "http.response.start", "status": answer.status_code, "headers": passed})
        await send({"type": "http.response.body", "body": answer.content})


@contextlib.asynccontextmanager
async def balancer(backends: list[str]) -> AsyncIterator[tuple[str, RoundRobin]]:
    app = RoundRobin(backends)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/mcp", app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        await app.client.aclose()


@starts(2)
async def test_a_tool_that_asks_twice_is_served_by_two_processes_with_no_store() -> None:
    from mcp import Client as OfficialClient
    from mcp.types import CreateMessageResult, ElicitResult, TextContent

    async def elicit(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    async def sample(context: Any, params: Any) -> CreateMessageResult:
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text="a walk"), model="m"
        )

    argv = mcpkit("run", SERVER, "--transport", "http", "--port", "0")
    async with running(argv, env=KEY) as one, running(argv, env=KEY) as two:
        backends = [await one.started(), await two.started()]
        async with asyncio.timeout(WAIT), balancer(backends) as (url, app):
            async with OfficialClient(
                url, mode="2026-07-28", elicitation_callback=elicit, sampling_callback=sample
            ) as client:
                before = len(app.seen)
                result = await client.call_tool("plan", {"city": "Lyon"})
            text = result.content[0].text  # type: ignore[union-attr]
            assert text.startswith("Ada in Lyon: a walk")
            # Three rounds of `plan` (and what the client sends around them), alternating.
            rounds = app.seen[before:]
            assert len(rounds) >= 3 and set(rounds) == set(backends)


@starts(2)
async def test_without_a_shared_key_a_retry_on_the_other_process_is_refused_clearly() -> None:
    argv = mcpkit("run", SERVER, "--transport", "http", "--port", "0")
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}},
    }
    headers = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "plan",
    }
    call = {"name": "plan", "arguments": {"city": "Lyon"}, "_meta": meta}
    async with running(argv) as one, running(argv) as two:
        first_url, second_url = await one.started(), await two.started()
        async with asyncio.timeout(WAIT), httpx.AsyncClient() as http:
            first = await http.post(
                first_url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call},
                headers=headers,
            )
            state = _last(first)["result"]["requestState"]
            retry = {
                **call,
                "requestState": state,
                "inputResponses": {"q1": {"action": "accept", "content": {"name": "A"}}},
            }
            second = await http.post(
                second_url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": retry},
                headers=headers,
            )
    error = _last(second)["error"]
    assert second.status_code == 400 and error["code"] == -32602
    assert "MCPKIT_REQUEST_STATE_KEY" in error["message"]


def _last(response: httpx.Response) -> Any:
    import json

    if response.headers["content-type"].startswith("text/event-stream"):
        lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        return json.loads(lines[-1])
    return response.json()
