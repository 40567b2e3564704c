"""The protocol sessions a `Server` builds (`mcpkit.server.serving.protocol_sessions`, an object
the server holds): of the server's session type, and a reading session for 2026-07-28 requests
that is made again when what the server declares changes."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit import Server
from mcpkit.runtime.response import Kind
from mcpkit.server.serving.protocol_sessions import FeatureSession
from mcpkit.transports.memory import memory_channel_pair

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
SKILL = "---\nname: demo\ndescription: a demo skill\n---\nDo the demo.\n"


class Written:
    """A `Response` that keeps the messages it is given."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def emit(self, data: bytes, kind: Kind) -> None:
        self.messages.append(msgspec.json.decode(data))

    def answer_as_json(self) -> None:
        pass


async def serve(server: Server, method: str) -> Any:
    written = Written()
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": META}}
    await server.request_peer(written).serve(msgspec.json.encode(body), None)
    return written.messages[-1]


async def test_a_skill_added_after_a_request_is_served_to_the_next() -> None:
    """The reading session is made again when the skills change (their files are resources:
    the resources' list says so), so skills/list exists for the next request."""
    server = Server("skills-later")
    assert (await serve(server, "skills/list"))["error"]["code"] == -32601
    server.add_skill(SKILL)
    answer = await serve(server, "skills/list")
    assert [skill["uri"] for skill in answer["result"]["skills"]] == ["skill://demo/SKILL.md"]
    server.remove_skill("skill://demo/SKILL.md")
    assert (await serve(server, "skills/list"))["error"]["code"] == -32601


class Marked(FeatureSession):
    """A session type of a server's own (as the proxy's answers `initialize` itself)."""


class MarkedServer(Server):
    _session_type = Marked


async def test_every_protocol_session_is_of_the_server_s_session_type() -> None:
    server = MarkedServer("marked")
    assert isinstance(server._protocols.reader(), Marked)
    _, server_end = memory_channel_pair()
    assert isinstance(server.new_connection(server_end).protocol, Marked)
