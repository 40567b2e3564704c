"""A 2026-07-28 server that answers anything (fuzzed results of `tools/call` and `tasks/get`:
any `resultType`, input requests of any shape, any `requestState`, task handles of any
fields): the mcpkit client's call returns a result or raises an error of mcpkit's own
(`McpkitError`), within a bounded time, never another exception, and the client goes on
serving the next request. The server's side is tests/http/test_http_fuzz_2026.py."""

from __future__ import annotations

import asyncio
from typing import Any

from _fuzz_2026 import mostly
from _modern_fakes import FakeModernServer
from _strategies import json_values
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mcpkit import Client
from mcpkit.errors import McpkitError
from mcpkit.types import CreateMessageResult, ElicitResult, Root, TextContent

content = mostly(st.just([{"type": "text", "text": "ok"}]), json_values)
input_requests = st.dictionaries(
    st.text(max_size=4),
    mostly(
        st.fixed_dictionaries(
            {
                "method": st.sampled_from(
                    ["elicitation/create", "sampling/createMessage", "roots/list", "nope"]
                )
            },
            optional={
                "params": mostly(
                    st.sampled_from(
                        [
                            {"message": "Name?", "requestedSchema": {"type": "object"}},
                            {"messages": [], "maxTokens": 5},
                            {},
                        ]
                    ),
                    json_values,
                )
            },
        ),
        json_values,
    ),
    max_size=3,
)
results = st.fixed_dictionaries(
    {"resultType": mostly(st.sampled_from(["complete", "input_required", "task"]), json_values)},
    optional={
        "content": content,
        "isError": st.booleans() | json_values,
        "inputRequests": mostly(input_requests, json_values),
        "requestState": mostly(st.text(max_size=10), json_values),
        "taskId": mostly(st.text(min_size=1, max_size=6), json_values),
        "status": mostly(
            st.sampled_from(["working", "completed", "failed", "cancelled", "input_required"]),
            json_values,
        ),
        "pollIntervalMs": mostly(st.integers(0, 20), json_values),
        "result": mostly(st.just({"content": [{"type": "text", "text": "t"}]}), json_values),
        "error": json_values,
        "_meta": json_values,
    },
)


def elicit(params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "ada"})


def sample(params: Any) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="4"), model="m")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(results, min_size=1, max_size=4), st.lists(results, min_size=1, max_size=3))
def test_whatever_a_2026_server_answers_a_call_ends_in_a_result_or_an_error_of_ours(
    calls: list[dict[str, Any]], polls: list[dict[str, Any]]
) -> None:
    answers = {"tools/call": iter(calls), "tasks/get": iter(polls)}

    async def fuzzed(server: FakeModernServer, params: dict[str, Any]) -> Any:
        method = server.requests[-1][0]
        try:
            return next(answers[method])
        except StopIteration:  # out of fuzzed answers: the last one's end
            return {"resultType": "complete", "status": "failed", "content": []}

    server = FakeModernServer(
        handlers={"tools/call": fuzzed, "tasks/get": fuzzed, "tasks/update": fuzzed},
        capabilities={"tools": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}},
    )

    async def run() -> None:
        async with Client(
            server.open,
            elicitation_handler=elicit,
            sampling_handler=sample,
            roots=[Root(uri="file:///w")],
            max_input_rounds=3,
        ) as client:
            try:
                await client.call_tool("t", {"x": 1}, timeout=5)
                event("a result")
            except McpkitError as exc:  # an error of ours, saying what came: fine
                event(f"{type(exc).__name__} {getattr(exc, 'code', '')}")
            tools = await client.list_tools()  # the client goes on
            assert tools == []

    asyncio.run(asyncio.wait_for(run(), 15))
