"""Whatever a 2026-07-28 client sends (requests that carry their own terms in `_meta`, any
of their parts fuzzed, any mirrored header values), it gets one well-formed answer: a status
the transport section names, a JSON-RPC error saying why when refused, never an internal
error; nothing stays behind (no session, no task of the loop, no running task), and the
endpoint serves the next request. Driven in-process so hypothesis can run many examples
(DESIGN.md, "How we test"); the session-era fuzzing is test_http_fuzz.py."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import msgspec
from _fuzz_2026 import META, METHODS, REVISION, make_server, mostly, requests
from _inprocess import asgi_request, assert_well_formed, final_answer, printable
from _serving import headers as sent_by_client
from _strategies import json_values
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

# What a 2026 POST may get (basic/transports/streamable-http, "Error handling").
STATUSES = {200, 202, 400, 403, 404, 405, 406, 413, 415}
SERVER = make_server()
MIRRORS = {"mcp-method", "mcp-name"}
header_values = st.text(max_size=20) | st.sampled_from(["", " ", "=?base64?!!?=", "null"])


def mirrored(request: dict[str, Any]) -> dict[str, str]:
    """The headers a 2026 client sends beside `request`: Mcp-Method, and Mcp-Name for a
    call, a read, a prompt or a task."""
    found = sent_by_client(host="127.0.0.1:8000")
    found["mcp-protocol-version"] = REVISION
    found["mcp-method"] = str(request["method"])
    sent = request.get("params")
    if isinstance(sent, dict):
        name = sent.get("name", sent.get("uri", sent.get("taskId")))
        if isinstance(name, str) and printable(name) and name:
            found["mcp-name"] = name
    return found


variations = st.fixed_dictionaries(
    {},
    optional={
        "mcp-method": st.sampled_from(METHODS) | header_values,
        "mcp-name": st.sampled_from(["add", "query", "notes://one"]) | header_values,
        "mcp-param-region": st.just("=?base64?" + base64.b64encode(b"eu").decode() + "?=")
        | header_values,
        "mcp-protocol-version": st.sampled_from([REVISION, "2025-11-25"]) | header_values,
        "accept": st.sampled_from(["application/json", "text/event-stream"]) | header_values,
        "mcp-session-id": st.sampled_from(["0" * 64]) | header_values,
    },
)


DISCOVER = msgspec.json.encode(
    {
        "jsonrpc": "2.0",
        "id": "alive",
        "method": "server/discover",
        "params": {
            "_meta": {
                META + "protocolVersion": REVISION,
                META + "clientCapabilities": {},
            }
        },
    }
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(  # a log level that is a list: it crashed the terms reader once (TypeError)
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "tools/list",
        "params": {
            "_meta": {
                META + "protocolVersion": REVISION,
                META + "clientCapabilities": {},
                META + "logLevel": [],
            }
        },
    },
    {},
    True,
)
@given(requests, mostly(st.just({}), variations), mostly(st.just(True), st.just(False)))
def test_any_2026_request_gets_a_well_formed_answer_and_leaves_nothing(
    request: dict[str, Any], changed: dict[str, str], keep_mirrors: bool
) -> None:
    async def run() -> None:
        app = SERVER.http_app()
        tasks = len(asyncio.all_tasks())
        sent_headers = mirrored(request)
        if not keep_mirrors:  # a client that sends none of them
            sent_headers = {k: v for k, v in sent_headers.items() if k not in MIRRORS}
        sent_headers.update({k: v for k, v in changed.items() if printable(v)})
        answer = asyncio.ensure_future(
            asgi_request(app, "POST", sent_headers, msgspec.json.encode(request))
        )
        # An accepted subscriptions/listen is a stream that stays open: its head is enough.
        done, _ = await asyncio.wait([answer], timeout=2)
        if done:
            sent = answer.result()
            event(f"status {sent[0]['status']}")
            assert_well_formed(sent, STATUSES)
        else:
            answer.cancel()
            await asyncio.gather(answer, return_exceptions=True)
        alive = await asgi_request(app, "POST", mirrored(msgspec.json.decode(DISCOVER)), DISCOVER)
        assert final_answer(alive)["id"] == "alive"
        assert len(app.sessions) == 0 or request["method"] == "initialize"
        for _, session in app.sessions.items():  # an initialize that opened a 2025 session
            await session.end()
        # What the request started winds down (bounded by the run's wait_for).
        while len(asyncio.all_tasks()) > tasks or SERVER.task_runner:
            await asyncio.sleep(0.01)
        assert len(asyncio.all_tasks()) <= tasks
        assert len(SERVER.task_runner) == 0

    asyncio.run(asyncio.wait_for(run(), 15))


TASKS = {"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}}


def modern(rid: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    meta = {META + "protocolVersion": REVISION, META + "clientCapabilities": TASKS}
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": {**params, "_meta": meta}}


async def send(app: Any, message: dict[str, Any]) -> Any:
    """POST `message` with the headers a 2026 client sends; its response once it is checked
    well-formed (None for a refusal)."""
    sent = await asgi_request(app, "POST", mirrored(message), msgspec.json.encode(message))
    assert_well_formed(sent, STATUSES)
    return final_answer(sent) if sent[0]["status"] == 200 else None


answers = st.dictionaries(
    mostly(st.just("q1"), st.text(max_size=3)),
    mostly(
        st.fixed_dictionaries(
            {"action": st.sampled_from(["accept", "decline", "cancel"]) | json_values},
            optional={"content": st.just({"n": "ada"}) | json_values},
        ),
        json_values,
    ),
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mostly(answers, json_values), min_size=1, max_size=3))
def test_any_answer_to_a_task_waiting_for_input_gets_a_well_formed_answer(
    updates: list[Any],
) -> None:
    """A task that asks its client (input_required), answered with tasks/update of any
    inputResponses: each update and each tasks/get after it is well-formed and never an
    internal error, and the task is then ended or cancelled, with nothing left running."""

    async def run() -> None:
        app = SERVER.http_app()
        call = modern("c", "tools/call", {"name": "ask_later", "arguments": {}})
        task_id = (await send(app, call))["result"]["taskId"]
        get = modern("g", "tasks/get", {"taskId": task_id})
        # Until the tool's question waits (bounded by the run's wait_for).
        while (await send(app, get))["result"]["status"] != "input_required":
            await asyncio.sleep(0.01)
        for update in updates:
            updated = await send(
                app, modern("u", "tasks/update", {"taskId": task_id, "inputResponses": update})
            )
            for _ in range(20):  # bounded: a taken answer moves the task on soon
                polled = await send(app, get)
                if polled is None or polled["result"]["status"] != "input_required":
                    break
                await asyncio.sleep(0.005)
            event(f"update {'error' if updated is None or 'error' in updated else 'taken'}")
            event(f"then {polled['result']['status'] if polled and 'result' in polled else '?'}")
        await send(app, modern("x", "tasks/cancel", {"taskId": task_id}))
        while SERVER.task_runner:  # the tool's work ends (bounded by the run's wait_for)
            await asyncio.sleep(0.01)
        assert len(SERVER.task_runner) == 0

    asyncio.run(asyncio.wait_for(run(), 15))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mostly(answers, json_values), st.booleans())
def test_any_answers_beside_a_genuine_request_state_get_a_well_formed_answer(
    responses: Any, same_call: bool
) -> None:
    """A tool that asks (multi round-trip) retried with its genuine `requestState` and any
    `inputResponses` (or with another call's params): the retry is served or refused with a
    well-formed answer, never an internal error."""

    async def run() -> None:
        app = SERVER.http_app()
        first = await send(app, modern("c", "tools/call", {"name": "greet", "arguments": {}}))
        asked = first["result"]
        assert asked["resultType"] == "input_required", asked
        params = {"name": "greet", "arguments": {} if same_call else {"other": 1}}
        retry = modern("r", "tools/call", params)
        retry["params"]["requestState"] = asked["requestState"]
        retry["params"]["inputResponses"] = responses
        answer = await send(app, retry)
        event("served" if answer is not None and "result" in answer else "refused")

    asyncio.run(asyncio.wait_for(run(), 15))
