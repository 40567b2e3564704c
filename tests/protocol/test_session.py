"""The session state machine driven with plain calls: no event loop, no I/O."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import (
    ErrorReceived,
    InitializedReceived,
    InitializeReceived,
    NotificationReceived,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    StrayCancel,
    StrayResponse,
)
from mcpkit.protocol.ids import RequestIds
from mcpkit.protocol.modern import ModernOffer
from mcpkit.protocol.server_session import ServerSession
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS


def server_session(**caps: Any) -> ServerSession:
    capabilities = msgspec.convert(caps or {"tools": {"listChanged": True}}, ServerCapabilities)
    return ServerSession(Implementation(name="s", version="1"), capabilities, instructions="hi")


def client_session(**caps: Any) -> ClientSession:
    # Its own id source, so its requests are numbered from 0 as the messages below expect.
    return ClientSession(
        Implementation(name="c", version="1"),
        msgspec.convert(caps, ClientCapabilities),
        request_ids=RequestIds(),
    )


def out(session: Any) -> list[Any]:
    return [json.loads(o.data) for o in session.data_to_send()]


def send(session: Any, msg: Any) -> list[Any]:
    return session.receive_data(json.dumps(msg).encode())


def init_msg(version: str = "2025-11-25", rid: int = 0, **caps: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": caps,
            "clientInfo": {"name": "c", "version": "1"},
        },
    }


def initialized(session: ServerSession, version: str = "2025-11-25", **caps: Any) -> None:
    send(session, init_msg(version, **caps))
    send(session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    session.data_to_send()


def pump(a: Any, b: Any) -> list[Any]:
    """Deliver everything a has queued to b; return b's events."""
    events: list[Any] = []
    for o in a.data_to_send():
        events.extend(b.receive_data(o.data))
    return events


def test_handshake_between_the_two_roles() -> None:
    server, client = server_session(), client_session(sampling={})
    rid = client.start()
    events = pump(client, server)
    assert isinstance(events[0], InitializeReceived)
    assert events[0].protocol_version == "2025-11-25"
    events = pump(server, client)
    assert isinstance(events[0], ResponseReceived) and events[0].request_id == rid
    assert client.phase == "operating" and client.revision == "2025-11-25"
    assert client.server_capabilities.tools is not None
    events = pump(client, server)  # notifications/initialized
    assert isinstance(events[0], InitializedReceived)
    assert server.phase == "operating"
    assert server.client_capabilities.sampling is not None


def test_unknown_version_is_answered_with_the_latest() -> None:
    server = server_session()
    send(server, init_msg("1999-01-01"))
    (reply,) = out(server)
    assert reply["result"]["protocolVersion"] == "2025-11-25"
    assert reply["result"]["instructions"] == "hi"


def test_older_version_is_kept() -> None:
    server = server_session()
    send(server, init_msg("2024-11-05"))
    (reply,) = out(server)
    assert reply["result"]["protocolVersion"] == "2024-11-05"
    assert server.revision == "2024-11-05"


def test_client_refuses_a_version_it_does_not_speak() -> None:
    client = client_session()
    rid = client.start()
    client.data_to_send()
    events = send(
        client,
        {
            "jsonrpc": "2.0",
            "id": rid,
            "result": {
                "protocolVersion": "1999-01-01",
                "capabilities": {},
                "serverInfo": {"name": "s", "version": "1"},
            },
        },
    )
    assert isinstance(events[0], ErrorReceived)
    assert "1999-01-01" in events[0].error.message


def test_requests_before_initialize_are_refused_but_ping_is_answered() -> None:
    server = server_session()
    send(server, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    send(server, {"jsonrpc": "2.0", "id": 2, "method": "ping"})
    first, second = out(server)
    assert first["error"]["code"] == codes.INVALID_REQUEST
    assert "before initialize" in first["error"]["message"]
    assert second == {"jsonrpc": "2.0", "id": 2, "result": {}}


def modern(rid: int, method: str, version: str = "2026-07-28") -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": {"_meta": meta}}


def test_a_request_on_a_revision_not_spoken_gets_the_2026_answer() -> None:
    # 2026-07-28 basic/versioning: UnsupportedProtocolVersionError lists what we speak, both
    # eras, so a client picks one (or falls back to initialize when only handshakes remain).
    server = server_session()
    send(server, modern(1, "server/discover", "2027-01-01"))
    send(server, modern(2, "tools/list", "2027-01-01"))
    for reply in out(server):
        error = reply["error"]
        assert error["code"] == codes.UNSUPPORTED_PROTOCOL_VERSION == -32022
        assert error["data"] == {
            "supported": ["2026-07-28", *server.supported_revisions],
            "requested": "2027-01-01",
        }
    initialized(server)
    send(server, modern(3, "server/discover", "2027-01-01"))
    (reply,) = out(server)
    assert reply["error"]["code"] == -32022  # on a session too: no method of that revision


def test_a_server_of_the_session_era_only_lists_its_revisions() -> None:
    server = ServerSession(
        Implementation(name="s", version="1"),
        ServerCapabilities(),
        modern=ModernOffer(SUPPORTED_REVISIONS, revisions=()),
    )
    send(server, modern(1, "tools/list"))
    (reply,) = out(server)
    assert reply["error"]["code"] == codes.UNSUPPORTED_PROTOCOL_VERSION
    assert reply["error"]["data"]["supported"] == list(server.supported_revisions)


@pytest.mark.parametrize(
    "params",
    [None, [1], {"_meta": []}, {"_meta": {"io.modelcontextprotocol/protocolVersion": 5}}],
)
def test_a_refused_request_without_a_readable_revision_keeps_its_refusal(params: Any) -> None:
    server = server_session()
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "server/discover"}
    if params is not None:
        msg["params"] = params
    send(server, msg)
    (reply,) = out(server)
    # server/discover exists only with per-request terms, which it then lacks (basic/index).
    assert reply["error"]["code"] == codes.INVALID_PARAMS
    assert "data" not in reply["error"]


def test_a_served_request_naming_a_spoken_revision_is_served() -> None:
    server = server_session()
    initialized(server)
    send(server, modern(1, "tools/list", "2025-11-25") | {"id": 1})
    assert out(server) == []  # passed on to the handler, not refused


def test_second_initialize_is_refused() -> None:
    server = server_session()
    initialized(server)
    send(server, init_msg(rid=5))
    (reply,) = out(server)
    assert reply["error"]["code"] == codes.INVALID_REQUEST


def test_undeclared_feature_is_method_not_found() -> None:
    server = server_session()  # tools only
    initialized(server)
    send(server, {"jsonrpc": "2.0", "id": 1, "method": "prompts/list"})
    (reply,) = out(server)
    assert reply["error"]["code"] == codes.METHOD_NOT_FOUND
    assert "prompts" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", codes.PARSE_ERROR),
        (b"42", codes.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', codes.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', codes.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', codes.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1}', codes.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 3, "method": "no/such"}', codes.METHOD_NOT_FOUND),
        (
            b'{"jsonrpc": "2.0", "id": 3, "method": "sampling/createMessage", "params": {}}',
            codes.METHOD_NOT_FOUND,
        ),
        (
            b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 7}}',
            codes.INVALID_PARAMS,
        ),
    ],
)
def test_bad_input_gets_the_named_error_and_the_session_goes_on(data: bytes, code: int) -> None:
    server = server_session()
    initialized(server)
    assert server.receive_data(data) == []
    (reply,) = out(server)
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]
    send(server, {"jsonrpc": "2.0", "id": 99, "method": "ping"})
    assert out(server) == [{"jsonrpc": "2.0", "id": 99, "result": {}}]


def test_invalid_params_message_names_the_path() -> None:
    server = server_session()
    initialized(server)
    send(server, {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": 7}})
    (reply,) = out(server)
    assert "$.name" in reply["error"]["message"]


def test_oversize_message_is_refused() -> None:
    server = server_session()
    server.max_message_size = 100
    initialized(server)
    server.receive_data(
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 200 + b'"}}'
    )
    (reply,) = out(server)
    assert reply["error"]["code"] == codes.INVALID_REQUEST
    assert "exceeds" in reply["error"]["message"]
    assert reply["id"] == 1  # read from the message's head, so the peer can correlate
    server.receive_data(b'{"no": "head"' + b" " * 200 + b"}")
    (unknown,) = out(server)
    assert unknown["id"] is None and unknown["error"]["code"] == codes.INVALID_REQUEST


def test_an_oversize_response_fails_our_request_at_once() -> None:
    client = client_session()
    client.max_message_size = 200
    server = server_session()
    client.start()
    pump(client, server)  # initialize
    pump(server, client)  # its result
    pump(client, server)  # initialized
    rid = client.send_request("tools/list", None)
    client.data_to_send()
    big = json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"tools": [], "x": "a" * 300}})
    (event,) = client.receive_data(big.encode()[:201])  # cut as the stdio transport does
    assert isinstance(event, ErrorReceived) and event.request_id == rid
    assert "tools/list" in event.error.message and "exceeds" in event.error.message
    assert out(client) == []  # nothing is sent back for a response


def test_duplicate_inflight_id_is_refused() -> None:
    server = server_session()
    initialized(server)
    msg = {"jsonrpc": "2.0", "id": 7, "method": "tools/list"}
    events = send(server, msg)
    assert isinstance(events[0], RequestReceived)
    assert send(server, msg) == []
    (reply,) = out(server)
    assert (
        reply["error"]["code"] == codes.INVALID_REQUEST
        and "already in use" in reply["error"]["message"]
    )


def test_a_response_to_an_unknown_id_is_reported_as_stray_and_never_answered() -> None:
    server = server_session()
    initialized(server)
    (stray,) = send(server, {"jsonrpc": "2.0", "id": 12345, "result": {"x": [1]}})
    assert isinstance(stray, StrayResponse) and stray.request_id == 12345
    assert json.loads(stray.data) == {"jsonrpc": "2.0", "id": 12345, "result": {"x": [1]}}
    (stray,) = send(server, {"jsonrpc": "2.0", "id": "a-1", "error": {"code": 1, "message": "m"}})
    assert json.loads(stray.data) == {
        "jsonrpc": "2.0",
        "id": "a-1",
        "error": {"code": 1, "message": "m"},
    }
    assert out(server) == []


def test_cancellation_suppresses_the_response() -> None:
    server = server_session()
    initialized(server)
    send(server, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    events = send(
        server,
        {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": 3, "reason": "changed my mind"},
        },
    )
    assert events == [RequestCancelled(3, "changed my mind")]
    server.send_response(3, {"tools": []})
    assert out(server) == []


def test_cancelling_initialize_is_ignored() -> None:
    server = server_session()
    send(server, init_msg(rid=1))
    server.data_to_send()
    # Answered at once, initialize is no longer in flight: the cancel names nothing here, and
    # is reported only for a shared broker to hand to other processes (which have nothing).
    assert send(
        server,
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}},
    ) == [StrayCancel(1, None)]
    assert server.data_to_send() == []


def test_progress_and_timeouts_on_our_requests() -> None:
    server, client = server_session(), client_session(roots={})
    client.start()
    pump(client, server)
    pump(server, client)
    pump(client, server)
    rid = server.send_request("roots/list", deadline=10.0, progress=True)
    (msg,) = out(server)
    token = msg["params"]["_meta"]["progressToken"]
    events = send(
        server,
        {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": token, "progress": 1, "total": 2},
        },
    )
    assert events == [ProgressReceived(rid, 1, 2, None)]
    assert server.next_deadline() == 10.0
    assert server.expire(9.0) == []
    assert server.expire(10.0) == [RequestTimedOut(rid)]
    (cancel,) = out(server)
    assert cancel["method"] == "notifications/cancelled"
    assert cancel["params"]["requestId"] == rid
    # The answer after we gave up is nobody's: reported as stray, never decoded.
    (late,) = send(server, {"jsonrpc": "2.0", "id": rid, "result": {"roots": []}})
    assert isinstance(late, StrayResponse) and late.request_id == rid


def test_server_may_not_ask_for_undeclared_client_features() -> None:
    server = server_session()
    initialized(server)  # client declared nothing
    with pytest.raises(LocalProtocolError, match="sampling"):
        server.send_request("sampling/createMessage", {})
    with pytest.raises(LocalProtocolError, match="roots"):
        server.send_request("roots/list")


def test_elicitation_modes_are_checked() -> None:
    server = server_session()
    initialized(server, elicitation={})  # empty object: form mode only
    server.send_request(
        "elicitation/create",
        {"mode": "form", "message": "m", "requestedSchema": {"type": "object", "properties": {}}},
    )
    with pytest.raises(LocalProtocolError, match="url"):
        server.send_request(
            "elicitation/create",
            {"mode": "url", "message": "m", "url": "https://x", "elicitationId": "1"},
        )


def test_server_requests_wait_for_initialized() -> None:
    server = server_session()
    send(server, init_msg(roots={}))
    with pytest.raises(LocalProtocolError, match="initialized"):
        server.send_request("roots/list")


def test_progress_must_increase() -> None:
    server = server_session()
    initialized(server)
    send(
        server,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/list",
            "params": {"_meta": {"progressToken": "t"}},
        },
    )
    server.send_progress(1, "t", 1)
    with pytest.raises(LocalProtocolError):
        server.send_progress(1, "t", 1)
    server.send_response(1, {"tools": []})
    server.send_progress(1, "t", 5)  # after completion: dropped
    msgs = out(server)
    assert [m.get("method") for m in msgs] == ["notifications/progress", None]


def test_unknown_notifications_are_dropped_known_ones_reported() -> None:
    client = client_session()
    client.start()
    client.data_to_send()
    send(
        client,
        {
            "jsonrpc": "2.0",
            "id": 0,
            "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "s", "version": "1"},
            },
        },
    )
    assert send(client, {"jsonrpc": "2.0", "method": "notifications/whatever"}) == []
    events = send(client, {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    assert isinstance(events[0], NotificationReceived)


def test_batches_only_in_2025_03_26() -> None:
    server = server_session()
    initialized(server)
    server.receive_data(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]')
    (reply,) = out(server)
    assert (
        reply["error"]["code"] == codes.INVALID_REQUEST
        and "2025-03-26" in reply["error"]["message"]
    )

    old = server_session()
    initialized(old, "2025-03-26")
    events = old.receive_data(
        b'[{"jsonrpc":"2.0","id":1,"method":"ping"},'
        b'{"jsonrpc":"2.0","id":2,"method":"tools/list"},'
        b'{"jsonrpc":"2.0","id":3,"method":"nope"},'
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}]'
    )
    assert [type(e) for e in events] == [RequestReceived]
    assert out(old) == []  # held until tools/list is answered
    old.send_response(2, {"tools": []})
    (batch,) = out(old)
    assert sorted(r["id"] for r in batch) == [1, 2, 3]


def test_client_side_refuses_undeclared_server_features() -> None:
    client = client_session()
    client.start()
    client.data_to_send()
    send(
        client,
        {
            "jsonrpc": "2.0",
            "id": 0,
            "result": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "serverInfo": {"name": "s", "version": "1"},
            },
        },
    )
    with pytest.raises(LocalProtocolError, match="tools"):
        client.send_request("tools/list")
    send(
        client,
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "sampling/createMessage",
            "params": {"messages": [], "maxTokens": 5},
        },
    )
    replies = out(client)
    assert replies[-1]["error"]["code"] == codes.METHOD_NOT_FOUND


def test_an_answer_with_nothing_before_it_is_handed_back_else_it_queues_behind() -> None:
    """`Session.answer`: the runtime sends a lone answer itself, never through the outbox;
    an answer with something queued before it keeps its place behind it, a second answer
    is dropped, and both ways make the same bytes."""
    session = server_session()
    initialized(session)
    call = {"jsonrpc": "2.0", "method": "tools/list", "params": {}}
    send(session, {**call, "id": 1})
    send(session, {**call, "id": 2})
    alone = session.answer(1, {"tools": []})
    assert alone is not None and (alone.related, alone.final) == (1, True)
    assert out(session) == []  # (nothing was queued: it is the caller's to send)
    assert session.answer(1, {"tools": []}) is None  # answered already: dropped
    session.send_notification("notifications/message", {"level": "info", "data": "x"})
    assert session.answer(2, {"tools": []}) is None  # behind the notification
    queued = session.data_to_send()
    assert [item.related for item in queued] == [None, 2]
    assert json.loads(queued[1].data) == {**json.loads(alone.data), "id": 2}
