"""An extension's methods (SEP-2133; the skills extension's here) exist for a session built
with them, in every revision, and for no other session: plain calls, no event loop."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.server_session import ServerSession
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities
from mcpkit.types.skills import SKILLS_METHODS, GetSkillRequestParams

INFO = Implementation(name="x", version="1")


def server(**options: Any) -> ServerSession:
    caps = msgspec.convert({"resources": {}}, ServerCapabilities)
    return ServerSession(INFO, caps, **options)


def send(session: ServerSession, message: dict[str, Any]) -> list[Any]:
    return session.receive_data(json.dumps(message).encode())


def answers(session: ServerSession) -> list[Any]:
    return [json.loads(o.data) for o in session.data_to_send()]


def handshake(session: ServerSession, version: str) -> None:
    params = {
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"},
    }
    send(session, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
    send(session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    session.data_to_send()


def skills_get(rid: int, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"uri": "skill://a/SKILL.md"}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": rid, "method": "skills/get", "params": params}


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18", "2024-11-05"])
def test_a_session_with_the_methods_serves_them_in_every_session_revision(version: str) -> None:
    session = server(extension_methods=SKILLS_METHODS)
    handshake(session, version)
    (event,) = send(session, skills_get(1))
    assert isinstance(event, RequestReceived) and event.method == "skills/get"
    assert event.params == GetSkillRequestParams(uri="skill://a/SKILL.md")


def test_a_2026_request_with_its_own_terms_reaches_them_too() -> None:
    session = server(extension_methods=SKILLS_METHODS)
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    (event,) = send(session, skills_get(1, meta))
    assert isinstance(event, RequestReceived) and event.terms is not None
    assert event.terms.revision == "2026-07-28"


def test_without_them_the_method_is_unknown_and_params_are_still_checked() -> None:
    plain = server()
    handshake(plain, "2025-11-25")
    assert send(plain, skills_get(1)) == []
    assert answers(plain)[0]["error"]["code"] == -32601
    session = server(extension_methods=SKILLS_METHODS)
    handshake(session, "2025-11-25")
    send(session, {"jsonrpc": "2.0", "id": 2, "method": "skills/get", "params": {"uri": 3}})
    assert answers(session)[0]["error"]["code"] == -32602


def connected_client(**options: Any) -> ClientSession:
    client = ClientSession(INFO, msgspec.convert({}, ClientCapabilities), **options)
    peer = server()
    client.start("2025-11-25")
    for message in client.data_to_send():
        peer.receive_data(message.data)
    for message in peer.data_to_send():
        client.receive_data(message.data)
    client.data_to_send()  # notifications/initialized
    return client


def test_a_client_session_sends_them_only_when_built_with_them() -> None:
    with pytest.raises(LocalProtocolError, match="'skills/list' is not a request"):
        connected_client().send_request("skills/list", {})
    client = connected_client(extension_methods=SKILLS_METHODS)
    client.send_request("skills/list", {})
    (sent,) = [json.loads(o.data) for o in client.data_to_send()]
    assert sent["method"] == "skills/list"
