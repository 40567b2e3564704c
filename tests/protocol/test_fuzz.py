"""Property tests: random and malformed input never breaks the session core.

Whatever arrives, `receive_data` returns events without raising, every message it sends is a
well-formed JSON-RPC object, and the session still answers a ping afterwards. Messages use
every method of every revision, and some are corrupted with invalid UTF-8 or nested past the
depth limit, which must get exactly -32700 or -32600.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.limits import MAX_JSON_DEPTH
from mcpkit.protocol.server_session import ServerSession
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS, methods_for


def every_method() -> list[str]:
    """Every method name of every revision mcpkit has a table for (the modern 2026-07-28
    one included once it has one), and names no revision has."""
    names: set[str] = set()
    for revision in (*SUPPORTED_REVISIONS, "2026-07-28"):
        try:
            names.update(methods_for(revision))
        except ValueError:
            continue  # no table for that revision yet
    return [*sorted(names), "no/such", "", "tools/call/", "\x00"]


METHODS = every_method()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)

ids = st.none() | st.integers(-5, 5) | st.text(max_size=3) | st.floats() | st.booleans()

messages = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
        "id": ids,
        "method": st.sampled_from(METHODS) | st.text(max_size=10),
        "params": json_values,
        "result": json_values,
        "error": json_values,
    },
)


def new_session(operating: bool, version: str = "2025-11-25") -> ServerSession:
    session = ServerSession(
        Implementation(name="s", version="1"),
        msgspec.convert({"tools": {}, "logging": {}}, ServerCapabilities),
    )
    session.max_message_size = 4096
    if operating:
        session.receive_data(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": "init",
                    "method": "initialize",
                    "params": {
                        "protocolVersion": version,
                        "capabilities": {},
                        "clientInfo": {"name": "c", "version": "1"},
                    },
                }
            ).encode()
        )
        session.receive_data(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        session.data_to_send()
    return session


def check_outgoing(session: ServerSession | ClientSession) -> list[Any]:
    sent = []
    for item in session.data_to_send():
        decoded = json.loads(item.data)
        for msg in decoded if isinstance(decoded, list) else [decoded]:
            assert msg["jsonrpc"] == "2.0"
            assert ("result" in msg) != ("error" in msg) or "method" in msg
            if "error" in msg:
                assert isinstance(msg["error"]["code"], int) and msg["error"]["message"]
            sent.append(msg)
    return sent


def still_answers_ping(session: ServerSession | ClientSession) -> None:
    session.receive_data(b'{"jsonrpc":"2.0","id":"probe-ping","method":"ping"}')
    replies = [m for m in check_outgoing(session) if m.get("id") == "probe-ping"]
    assert replies == [{"jsonrpc": "2.0", "id": "probe-ping", "result": {}}]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=64), max_size=5), st.booleans())
def test_random_bytes(chunks: list[bytes], operating: bool) -> None:
    session = new_session(operating)
    for chunk in chunks:
        session.receive_data(chunk)
        check_outgoing(session)
    still_answers_ping(session)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages | st.lists(messages, max_size=3), min_size=1, max_size=6), st.booleans())
def test_random_json_rpc_shapes(batch: list[Any], operating: bool) -> None:
    session = new_session(operating)
    for message in batch:
        session.receive_data(json.dumps(message).encode())
        for reply in check_outgoing(session):
            assert "id" in reply or "method" in reply
    # A request may have been left in flight (a valid tools/list, say): a fresh id still works.
    still_answers_ping(session)


def new_client_session(operating: bool) -> ClientSession:
    session = ClientSession(
        Implementation(name="c", version="1"),
        msgspec.convert({"sampling": {}, "roots": {}}, ClientCapabilities),
    )
    session.max_message_size = 4096
    rid = session.start()
    session.data_to_send()
    if operating:
        session.receive_data(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "result": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "s", "version": "1"},
                    },
                }
            ).encode()
        )
        session.data_to_send()
        session.send_request("tools/list", None)  # one request of ours awaits an answer
        session.data_to_send()
    return session


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages | st.binary(max_size=48), min_size=1, max_size=6), st.booleans())
def test_a_client_session_survives_whatever_a_server_sends(
    batch: list[Any], operating: bool
) -> None:
    session = new_client_session(operating)
    for message in batch:
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        session.receive_data(data)
        check_outgoing(session)
    session.receive_data(b'{"jsonrpc":"2.0","id":"probe-ping","method":"ping"}')
    replies = [m for m in check_outgoing(session) if m.get("id") == "probe-ping"]
    assert replies == [{"jsonrpc": "2.0", "id": "probe-ping", "result": {}}]


# ------------------------------------------------------------ corrupted bytes

NOT_UTF8 = [
    b"\xff",
    b"\x80",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xe6\x97",
    b"\xf4\x90\x80\x80",
    b"\xc3(",
]


def replies_to(session: ServerSession | ClientSession, data: bytes) -> list[Any]:
    session.receive_data(data)
    return check_outgoing(session)


def assert_only(replies: list[Any], code: int) -> None:
    for reply in replies:
        assert "error" in reply and reply["error"]["code"] == code, reply


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages, st.sampled_from(NOT_UTF8), st.floats(0, 1), st.booleans(), st.booleans())
def test_invalid_utf8_anywhere_is_a_parse_error(
    message: Any, bad: bytes, where: float, client: bool, operating: bool
) -> None:
    data = json.dumps(message, ensure_ascii=False).encode()
    at = int(len(data) * where)
    data = data[:at] + bad + data[at:]
    session = new_client_session(operating) if client else new_session(operating)
    assert_only(replies_to(session, data), codes.PARSE_ERROR)
    still_answers_ping(session)


def nest(depth: int, leaf: Any, objects: bool) -> Any:
    for _ in range(depth):
        leaf = {"k": leaf} if objects else [leaf]
    return leaf


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages,
    st.sampled_from(["id", "params", "result", "error", "arguments"]),
    st.integers(MAX_JSON_DEPTH + 1, 1500),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_nesting_past_the_limit_anywhere_is_invalid(
    message: Any, where: str, depth: int, objects: bool, client: bool, operating: bool
) -> None:
    message = dict(message)
    if where == "arguments":
        message["params"] = {"name": "t", "arguments": nest(depth, 1, objects)}
    else:
        message[where] = nest(depth, 1, objects)
    session = new_client_session(operating) if client else new_session(operating)
    session.max_message_size = 64 * 1024
    assert_only(replies_to(session, json.dumps(message).encode()), codes.INVALID_REQUEST)
    still_answers_ping(session)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(messages | st.integers() | st.text(max_size=4), min_size=1, max_size=5),
    st.sampled_from([None, "utf-8", "depth"]),
)
def test_batches_in_2025_03_26(batch: list[Any], spoil: str | None) -> None:
    session = new_session(True, "2025-03-26")
    data = json.dumps(batch, ensure_ascii=False).encode()
    if spoil == "utf-8":
        data = data[:-1] + b',"\xff"]'
    elif spoil == "depth":
        data = data[:-1] + b"," + b"[" * 300 + b"]" * 300 + b"]"
    replies = replies_to(session, data)
    if spoil is not None:
        assert len(replies) == 1 and replies[0]["id"] is None
        assert_only(replies, codes.PARSE_ERROR if spoil == "utf-8" else codes.INVALID_REQUEST)
    still_answers_ping(session)
