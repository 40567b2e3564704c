"""Drive an ASGI app in this process, as a server would, with no socket in between (for tests
that count memory and tasks, or run many examples), and the hostile bodies the HTTP fuzz
tests send."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from _strategies import json_values
from hypothesis import strategies as st

from mcpkit.types.methods import SUPPORTED_REVISIONS, methods_for

__all__ = [
    "asgi_request",
    "assert_well_formed",
    "bodies",
    "body_of",
    "final_answer",
    "json_values",
    "messages",
    "printable",
]


async def asgi_request(
    app: Any,
    method: str,
    headers: Mapping[str, str],
    body: bytes | Sequence[bytes] = b"",
    path: str = "/mcp",
) -> list[Any]:
    """One request: the ASGI messages the app sent back. The client stays until the response
    is complete, then disconnects; the call returns once the app has returned. A `body` given
    as a sequence of pieces arrives in as many messages (a client sending it in parts)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    answered = asyncio.Event()
    sent: list[Any] = []
    pieces = [body] if isinstance(body, bytes) else list(body)
    pending = [
        {"type": "http.request", "body": piece, "more_body": n < len(pieces) - 1}
        for n, piece in enumerate(pieces)
    ]

    async def receive() -> Any:
        if pending:
            return pending.pop(0)
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)
    answered.set()
    return sent


def body_of(sent: list[Any]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent[1:])


def final_answer(sent: list[Any]) -> Any:
    """The last JSON-RPC message of a 200 answer, SSE or JSON."""
    body = body_of(sent)
    kind = dict(sent[0]["headers"]).get(b"content-type", b"")
    if kind.startswith(b"text/event-stream"):
        lines = [line for line in body.split(b"\n") if line.startswith(b"data: ")]
        return msgspec.json.decode(lines[-1][len(b"data: ") :])
    return msgspec.json.decode(body)


def printable(value: str) -> bool:
    """Whether a header value can be sent at all: ASGI servers hand the app Latin-1 header
    bytes, so a str outside it never reaches one."""
    return all(32 <= ord(c) < 256 and c != "\x7f" for c in value)


def assert_well_formed(sent: list[Any], statuses: set[int]) -> None:
    """One answer a POST may get: a status in `statuses`; for a refusal, JSON-RPC errors that
    say why; for a 200, responses with a result or an error; never an internal error."""
    status = sent[0]["status"]
    assert status in statuses, (status, sent)
    body = body_of(sent)
    if status >= 400:
        refused = msgspec.json.decode(body)
        for error in refused if isinstance(refused, list) else [refused]:
            assert error["jsonrpc"] == "2.0" and isinstance(error["error"]["message"], str)
            assert isinstance(error["error"]["code"], int), error
            assert error["error"]["code"] != -32603, error
    elif status == 200:
        answer = final_answer(sent)
        for message in answer if isinstance(answer, list) else [answer]:
            assert ("result" in message) != ("error" in message), message
            assert message.get("error", {}).get("code") != -32603, message  # never "internal"
    else:
        assert body == b""


METHODS = sorted({m for r in SUPPORTED_REVISIONS for m in methods_for(r)} | {"no/such/method"})
messages = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0") | json_values},
    optional={
        "id": st.integers(-2, 2) | st.text(max_size=3) | json_values,
        "method": st.sampled_from(METHODS) | json_values,
        "params": json_values
        | st.fixed_dictionaries(
            {"name": st.sampled_from(["add", "steps", "ask", "nope"])},
            optional={
                "arguments": st.dictionaries(st.sampled_from(["a", "b", "count"]), json_values)
            },
        ),
        "result": json_values,
    },
)
bodies = (
    st.binary(max_size=40)
    | json_values.map(msgspec.json.encode)
    | messages.map(msgspec.json.encode)
    | st.lists(messages, min_size=1, max_size=3).map(msgspec.json.encode)
)
