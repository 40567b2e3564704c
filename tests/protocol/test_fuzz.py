"""Property tests: random and malformed input never breaks the session core.

Whatever arrives, `receive_data` returns events without raising, every message it sends is a
well-formed JSON-RPC object, and the session still answers a ping afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit.protocol.lifecycle import ClientSession, ServerSession
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities

METHODS = ["initialize", "ping", "tools/list", "tools/call", "resources/read",
           "notifications/initialized", "notifications/cancelled", "notifications/progress",
           "logging/setLevel", "completion/complete", "prompts/get", "no/such", ""]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)

ids = st.none() | st.integers(-5, 5) | st.text(max_size=3) | st.floats() | st.booleans()

messages = st.fixed_dictionaries(
    {},
    optional={"jsonrpc": st.sampled_from(["2.0", "1.0", 2]), "id": ids,
              "method": st.sampled_from(METHODS) | st.text(max_size=10),
              "params": json_values, "result": json_values, "error": json_values})


def new_session(operating: bool) -> ServerSession:
    session = ServerSession(Implementation(name="s", version="1"),
                            msgspec.convert({"tools": {}, "logging": {}}, ServerCapabilities))
    session.max_message_size = 4096
    if operating:
        session.receive_data(json.dumps({
            "jsonrpc": "2.0", "id": "init", "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "c", "version": "1"}}}).encode())
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


def still_answers_ping(session: ServerSession) -> None:
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
@given(st.lists(messages | st.lists(messages, max_size=3), min_size=1, max_size=6),
       st.booleans())
def test_random_json_rpc_shapes(batch: list[Any], operating: bool) -> None:
    session = new_session(operating)
    for message in batch:
        session.receive_data(json.dumps(message).encode())
        for reply in check_outgoing(session):
            assert "id" in reply or "method" in reply
    # A request may have been left in flight (a valid tools/list, say): a fresh id still works.
    still_answers_ping(session)


def new_client_session(operating: bool) -> ClientSession:
    session = ClientSession(Implementation(name="c", version="1"),
                            msgspec.convert({"sampling": {}, "roots": {}}, ClientCapabilities))
    session.max_message_size = 4096
    rid = session.start()
    session.data_to_send()
    if operating:
        session.receive_data(json.dumps({
            "jsonrpc": "2.0", "id": rid, "result": {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "s", "version": "1"}}}).encode())
        session.data_to_send()
        session.send_request("tools/list", None)  # one request of ours awaits an answer
        session.data_to_send()
    return session


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages | st.binary(max_size=48), min_size=1, max_size=6), st.booleans())
def test_a_client_session_survives_whatever_a_server_sends(batch: list[Any],
                                                           operating: bool) -> None:
    session = new_client_session(operating)
    for message in batch:
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        session.receive_data(data)
        check_outgoing(session)
    session.receive_data(b'{"jsonrpc":"2.0","id":"probe-ping","method":"ping"}')
    replies = [m for m in check_outgoing(session) if m.get("id") == "probe-ping"]
    assert replies == [{"jsonrpc": "2.0", "id": "probe-ping", "result": {}}]
