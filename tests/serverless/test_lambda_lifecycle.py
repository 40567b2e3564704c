"""`lambda_handler()` across invocations: one event loop reused while warm, the server's
lifespan started once (and tried again when it failed), a call cut off before the function's
deadline, a cold start that loads no HTTP stack, and a tool's question answered by another
execution environment."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _lambda_events import META, FakeContext, answer, event, mcp_headers, request
from _lambda_server import LOOPS, call, make_server

from mcpkit import Context, Server
from mcpkit.server.asking.request_state import KEY_ENV
from mcpkit.serverless import LambdaHandler


def test_warm_invocations_reuse_one_event_loop(handler: LambdaHandler) -> None:
    LOOPS.clear()
    for _ in range(3):
        handler(
            event("function_url", call("where", {}), mcp_headers("tools/call", "where")),
            FakeContext(),
        )
    assert LOOPS == [id(handler.loop)] * 3


def test_a_call_past_the_functions_time_is_answered_504(handler: LambdaHandler) -> None:
    """600 ms left, of which 500 kept back: the slow call is cut off at 100 ms and answered,
    rather than the function being killed with no answer."""
    sent = event("http_api_v2", call("slow", {}), mcp_headers("tools/call", "slow"))
    result = handler(sent, FakeContext(millis=600))
    assert result["statusCode"] == 504
    assert "timeout" in answer(result)["error"]["message"]
    # The handler serves the next invocation as usual.
    listed = handler(event("http_api_v2", request("tools/list"), mcp_headers("tools/list")))
    assert listed["statusCode"] == 200


def test_a_cold_start_loads_no_http_server_or_client_stack() -> None:
    """What a function's first answer imports is what it pays for at every cold start
    (bench/lambda_cold_start.py): the handler drives the ASGI app itself, so no server
    (uvicorn, its parsers, uvloop), no client (httpx) and no store it was not given."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from _lambda_events import FakeContext, event, mcp_headers, request\n"
        "from mcpkit import Server\n"
        "handler = Server('cold').lambda_handler()\n"
        "result = handler(event('function_url', request('server/discover'),"
        " mcp_headers('server/discover')),"
        " FakeContext())\n"
        "assert result['statusCode'] == 200, result\n"
        "heavy = {'uvicorn', 'httptools', 'h11', 'uvloop', 'httpx', 'httpcore', 'sqlite3',"
        " 'redis', 'starlette', 'anyio'}\n"
        "print(','.join(sorted(heavy & {m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_the_servers_lifespan_runs_once_and_a_failed_start_is_tried_again() -> None:
    starts: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        starts.append("start")
        if len(starts) == 1:
            raise OSError("the database is not up yet")
        yield "db"
        starts.append("end")

    server = make_server(lifespan=lifespan)

    @server.tool()
    def state(ctx: Context) -> str:
        return str(ctx.lifespan_state)

    made = server.lambda_handler()
    sent = event("http_api_v2", call("state", {}), mcp_headers("tools/call", "state"))
    try:
        with pytest.raises(OSError, match="not up yet"):
            made(sent, FakeContext())
        for _ in range(2):
            assert answer(made(sent, FakeContext()))["result"]["content"][0]["text"] == "db"
        assert starts == ["start", "start"]
    finally:
        made.close()
    assert starts == ["start", "start", "end"]


def asking_server() -> Server:
    server = make_server()

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Ask a name, then greet."""
        form = {"type": "object", "properties": {"n": {"type": "string"}}}
        found = await ctx.elicit("Name?", form)
        return f"hello {found.data['n'] if found.data else '?'}"

    return server


@pytest.mark.parametrize("shared", [True, False])
def test_a_tool_that_asks_is_answered_by_another_execution_environment(
    monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """A 2026-07-28 question ends the first invocation; its retry may reach another execution
    environment (another process), which opens the requestState with the key they share
    (docs/deploy.md: set MCPKIT_REQUEST_STATE_KEY), and refuses it without one."""
    if shared:
        monkeypatch.setenv(KEY_ENV, "k" * 32)
    else:
        monkeypatch.delenv(KEY_ENV, raising=False)
    first, second = asking_server().lambda_handler(), asking_server().lambda_handler()
    caps = {**META, "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
    hdrs = mcp_headers("tools/call", "greet")
    try:
        ask = call("greet", {})
        ask["params"]["_meta"] = caps
        asked = answer(first(event("function_url", ask, hdrs), FakeContext()))["result"]
        assert asked["resultType"] == "input_required"
        retry = call("greet", {}, rid=2)
        retry["params"].update(
            _meta=caps,
            inputResponses={
                key: {"action": "accept", "content": {"n": "Ada"}} for key in asked["inputRequests"]
            },
            requestState=asked["requestState"],
        )
        result = second(event("function_url", retry, hdrs), FakeContext())
    finally:
        first.close()
        second.close()
    if shared:
        assert answer(result)["result"]["content"][0]["text"] == "hello Ada"
    else:
        assert (result["statusCode"], answer(result)["error"]["code"]) == (400, -32602)
