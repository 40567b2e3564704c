"""Each request knows the terms it is served under, and the lifecycle's phases are one table.

Driven with plain calls (sans-I/O), plus one server round trip for `Context`."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import LocalProtocolError
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.ids import RequestIds
from mcpkit.protocol.phases import (
    CLIENT_PHASES,
    CLIENT_STEPS,
    SERVER_PHASES,
    SERVER_STEPS,
    next_phase,
)
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import Terms
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities


def server() -> ServerSession:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    return ServerSession(Implementation(name="s", version="1"), caps)


def send(session: Any, msg: dict[str, Any]) -> list[Any]:
    return session.receive_data(json.dumps({"jsonrpc": "2.0", **msg}).encode())


def answers(session: Any) -> list[Any]:
    return [json.loads(o.data) for o in session.data_to_send()]


INIT = {
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {"roots": {}},
        "clientInfo": {"name": "c", "version": "7"},
    },
}


def test_every_request_of_a_session_carries_the_terms_initialize_settled() -> None:
    s = server()
    assert s.terms is None and s.revision is None
    send(s, INIT)
    terms = s.terms
    assert terms is not None and terms.revision == "2025-06-18" == s.revision
    assert terms.peer_info == Implementation(name="c", version="7")
    assert terms.peer_capabilities.roots is not None and not terms.stateless
    send(s, {"method": "notifications/initialized"})
    events = send(s, {"id": 1, "method": "tools/list"}) + send(s, {"id": 2, "method": "tools/list"})
    assert [type(e) for e in events] == [RequestReceived, RequestReceived]
    # One object for the whole session: no copy per request.
    assert all(e.terms is terms for e in events)


def test_a_request_before_the_handshake_has_no_terms() -> None:
    s = server()
    assert send(s, {"id": 1, "method": "ping"}) == []  # answered by the session itself
    assert answers(s) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert s.client_capabilities == ClientCapabilities() and s.client_info is None


def test_the_revision_decides_which_methods_exist() -> None:
    """2024-11-05 has no elicitation, and no task methods: the table of that revision says so."""
    c = ClientSession(
        Implementation(name="c", version="1"), ClientCapabilities(), request_ids=RequestIds()
    )
    c.start("2024-11-05")
    c.data_to_send()
    result = {
        "protocolVersion": "2024-11-05",
        "capabilities": {},
        "serverInfo": {"name": "s", "version": "1"},
    }
    c.receive_data(json.dumps({"jsonrpc": "2.0", "id": 0, "result": result}).encode())
    assert c.phase == "operating" and c.revision == "2024-11-05"
    c.data_to_send()
    send(c, {"id": 9, "method": "tasks/list"})
    (refusal,) = answers(c)
    assert refusal["error"]["code"] == codes.METHOD_NOT_FOUND


def test_a_resumed_session_settles_its_terms_from_the_record() -> None:
    s = server()
    caps = msgspec.convert({"roots": {}}, ClientCapabilities)
    s.resume("2025-03-26", Implementation(name="c", version="2"), caps, initialized=False)
    assert s.phase == "initializing" and s.revision == "2025-03-26"
    assert s.client_info == Implementation(name="c", version="2")
    (ev,) = send(s, {"id": 3, "method": "tools/list"})
    assert isinstance(ev, RequestReceived) and ev.terms is s.terms
    send(s, {"method": "notifications/initialized"})
    assert s.phase == "operating"


def test_phases_follow_their_tables_through_a_handshake() -> None:
    s = server()
    seen = [s.phase]
    send(s, INIT)
    seen.append(s.phase)
    send(s, {"method": "notifications/initialized"})
    seen.append(s.phase)
    send(s, {"method": "notifications/initialized"})  # again: nothing changes
    seen.append(s.phase)
    assert seen == ["new", "initializing", "operating", "operating"]
    walked = ["new"]
    for happened in ("initialize answered", "notifications/initialized"):
        step = next_phase(SERVER_STEPS, walked[-1], happened)
        assert step is not None
        walked.append(step)
    assert walked == seen[:3]
    assert next_phase(SERVER_STEPS, "operating", "notifications/initialized") is None


def test_each_phase_refuses_what_its_row_says() -> None:
    s = server()
    send(s, {"id": 1, "method": "tools/list"})
    (early,) = answers(s)
    assert early["error"]["code"] == codes.INVALID_REQUEST
    assert early["error"]["message"] == SERVER_PHASES["new"].refusal("tools/list")
    send(s, INIT)
    answers(s)
    with pytest.raises(LocalProtocolError) as info:
        s.send_request("roots/list")
    assert str(info.value) == SERVER_PHASES["initializing"].send_refusal("roots/list")
    s.send_request("ping")  # pings may go in any phase but stateless
    send(s, {**INIT, "id": 5})
    again = answers(s)[-1]
    assert again["error"]["message"] == SERVER_PHASES["initializing"].refusal("initialize")


def test_a_stateless_session_serves_everything_and_sends_no_request() -> None:
    s = server()
    s.start_stateless("2025-11-25")
    assert s.phase == "stateless" and s.stateless
    terms = s.terms
    assert terms is not None and terms.stateless and terms.revision == "2025-11-25"
    send(s, {**INIT, "id": 1})
    assert s.phase == "stateless" and s.client_info == Implementation(name="c", version="7")
    for method in ("ping", "roots/list"):
        with pytest.raises(LocalProtocolError, match="stateless HTTP"):
            s.send_request(method)


def test_the_tables_cover_every_phase_they_name() -> None:
    for steps, phases in ((SERVER_STEPS, SERVER_PHASES), (CLIENT_STEPS, CLIENT_PHASES)):
        for (before, _), after in steps.items():
            assert before in phases and after in phases
    for phases in (SERVER_PHASES, CLIENT_PHASES):
        for name, phase in phases.items():
            assert phase.refusal("ping") is None, name  # ping is always served
    assert SERVER_PHASES["new"].notifies is False
    assert SERVER_PHASES["initializing"].notifies is True


async def test_context_reads_the_terms_of_its_request_not_of_the_session() -> None:
    """A handler sees the request's terms; a request that carried other terms than its
    session's (as a 2026-07-28 request does) is served under its own."""
    app = Server("terms")
    seen: list[tuple[str | None, bool, str | None]] = []

    @app.tool()
    def probe(ctx: Context) -> str:
        seen.append(
            (
                ctx.protocol_version,
                ctx.client_supports("roots"),
                None if ctx.client_info is None else ctx.client_info.name,
            )
        )
        return "ok"

    async with Client(app, protocol="2025-11-25") as client:  # (a session to compare with)
        await client.call_tool("probe", {})
        (handle,) = app.sessions
        session_terms = handle.protocol.terms
        assert session_terms is not None
        own = Terms(
            "2025-03-26",
            msgspec.convert({"roots": {}}, ClientCapabilities),
            Implementation(name="elsewhere", version="1"),
            stateless=True,
        )
        ev = RequestReceived(
            99,
            "tools/call",
            msgspec.convert({"name": "probe", "arguments": {}}, _call_params()),
            terms=own,
        )
        await app.handle_request(handle, ev)
    assert session_terms.peer_info is not None
    assert seen[0] == ("2025-11-25", False, session_terms.peer_info.name)
    assert seen[1] == ("2025-03-26", True, "elsewhere")
    derived = Context(app, handle, ev).derive(server=app)
    assert derived.terms is own


def _call_params() -> Any:
    from mcpkit.types import CallToolRequestParams

    return CallToolRequestParams
