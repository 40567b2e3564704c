"""The protocol sessions a `Server` builds (`mcpkit.server.serving.protocol_sessions`, an object
the server holds): of the server's session type, and a reading session for 2026-07-28 requests
that is made again when what the server declares changes."""

from __future__ import annotations

import operator
from typing import Any

import msgspec
import pytest
from _modern_peers import serve_read

from mcpkit import Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.protocol.modern import CachePolicy
from mcpkit.runtime.response import Kind
from mcpkit.server import Context, TypedMiddleware
from mcpkit.server.catalog.declared_capabilities import Feature
from mcpkit.server.middleware.typed import AnswerNext
from mcpkit.server.serving.protocol_sessions import FeatureSession
from mcpkit.transports.memory import memory_channel_pair
from mcpkit.types import Implementation

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
TASKS = "io.modelcontextprotocol/tasks"
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
    peer = server.request_peer(written)
    await serve_read(peer, peer.reader.read_sessionless(msgspec.json.encode(body), None))
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
    assert isinstance(server._request_peers.reader(), Marked)
    _, server_end = memory_channel_pair()
    assert isinstance(server.new_connection(server_end).protocol, Marked)


async def capabilities(server: Server) -> dict[str, Any]:
    found: dict[str, Any] = (await serve(server, "server/discover"))["result"]["capabilities"]
    return found


async def test_what_changes_after_a_request_is_declared_to_the_next() -> None:
    """The capabilities are worked out again after each change the server counts (its own
    registries, a mounted server's, disabling, completers, extensions), not per request."""
    server, inner = Server("later"), Server("inner")
    assert "tools" not in await capabilities(server)

    @server.tool()
    def echo(text: str) -> str:
        return text

    assert "tools" in await capabilities(server)
    server.remove_tool("echo")
    assert "tools" not in await capabilities(server)
    server.mount(inner, "in")
    assert "prompts" not in await capabilities(server)

    @inner.prompt()
    def greet(name: str) -> str:
        return name

    assert "prompts" in await capabilities(server)
    assert "completions" not in await capabilities(server)

    @inner.completion(prompt="greet", argument="name")
    def names(value: str, given: dict[str, str]) -> list[str]:
        return [value]

    assert "completions" in await capabilities(server)
    inner.declare_extension("com.example/audit", {"level": 1})
    assert (await capabilities(server))["extensions"] == {"com.example/audit": {"level": 1}}
    server.declare_extension("com.example/audit", {"level": 2})  # (its own wins)
    assert (await capabilities(server))["extensions"] == {"com.example/audit": {"level": 2}}

    @inner.tool(task=True)
    def slow(n: int) -> int:
        return n

    # (Under 2026-07-28 tasks are an extension: SEP-2663.)
    assert TASKS in (await capabilities(server))["extensions"]
    inner.remove_tool("slow")
    assert TASKS not in (await capabilities(server))["extensions"]


async def test_a_completer_put_in_server_completers_in_place_is_declared_to_the_next() -> None:
    """`server.completers` is a public dict: one put there directly (not by `completion`)
    still changes what the next request is told, and so does one taken out."""
    server = Server("completers-in-place")

    @server.prompt()
    def greet(name: str) -> str:
        return name

    assert "completions" not in await capabilities(server)

    def names(value: str, given: dict[str, str]) -> list[str]:
        return [value]

    server.completers[("ref/prompt", "greet", "name")] = names
    assert "completions" in await capabilities(server)
    del server.completers[("ref/prompt", "greet", "name")]
    assert "completions" not in await capabilities(server)


def names(value: str, given: dict[str, str]) -> list[str]:
    return [value]


async def test_every_change_of_the_completers_in_place_is_declared_to_the_next() -> None:
    """Each way a dict can be changed in place counts, here and in a mounted server (whose
    completers are its parent's to declare)."""
    server, inner = Server("completers-every-way"), Server("inner")
    server.mount(inner, "in")
    key = ("ref/prompt", "greet", "name")
    for completers in (server.completers, inner.completers):
        assert "completions" not in await capabilities(server)
        completers.update({key: names})
        assert "completions" in await capabilities(server)
        completers.pop(key)
        assert "completions" not in await capabilities(server)
        completers.setdefault(key, names)
        assert "completions" in await capabilities(server)
        completers.popitem()
        assert "completions" not in await capabilities(server)
        completers |= {key: names}
        assert "completions" in await capabilities(server)
        completers.clear()


async def test_completers_assigned_to_the_server_replace_its_own() -> None:
    """`server.completers = {...}` puts those in the server's dict (what completion/complete
    and the capabilities both read), and is declared to the next request."""
    server = Server("completers-assigned")
    server.completers = {("ref/prompt", "greet", "name"): names}
    assert "completions" in await capabilities(server)
    assert server.completers == {("ref/prompt", "greet", "name"): names}
    server.completers = {}
    assert "completions" not in await capabilities(server)


async def test_a_request_after_no_change_asks_nothing_of_the_capabilities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reading session of 2026-07-28 requests is kept while nothing the server counts
    changed, and the capabilities are not asked again for each request (every POST would
    pay for it)."""
    server = Server("kept")
    await capabilities(server)
    reader = server._request_peers.reader()
    asked: list[object] = []
    declared = Server.capabilities

    def counted(self: Server) -> Any:
        asked.append(self)
        return declared(self)

    monkeypatch.setattr(Server, "capabilities", counted)
    await capabilities(server)
    assert asked == []
    assert server._request_peers.reader() is reader
    server.completers[("ref/prompt", "greet", "name")] = names
    assert "completions" in await capabilities(server)
    assert asked == [server]


def test_the_mirrored_arguments_follow_the_tools() -> None:
    """`param_headers` (asked on every 2026-07-28 tools/call over HTTP) is worked out once
    per change of the tools: a tool added, hidden, shown again or mounted later is seen."""
    server, inner = Server("headers"), Server("inner")
    assert server.param_headers("route") is None

    @server.tool(headers={"region": "Region"})
    def route(region: str, text: str) -> str:
        return text

    @server.tool()
    def plain(text: str) -> str:
        return text

    assert server.param_headers("route") == {"Region": ("region",)}
    assert server.param_headers("plain") == {}
    server.disable("route")
    assert server.param_headers("route") is None
    server.enable("route")
    assert server.param_headers("route") == {"Region": ("region",)}
    server.mount(inner, "in")
    assert server.param_headers("in_zone") is None

    @inner.tool(headers={"zone": "Zone"})
    def zone(zone: str) -> str:
        return zone

    assert server.param_headers("in_zone") == {"Zone": ("zone",)}
    inner.remove_tool("zone")
    assert server.param_headers("in_zone") is None


async def test_an_extension_declared_in_a_server_mounted_deeper_is_declared_to_the_next() -> None:
    """A server mounted in a mounted server counts its extensions as its parents' changes,
    at every depth, and so does one declared again with other settings."""
    server, middle, inner = Server("top"), Server("middle"), Server("inner")
    server.mount(middle, "mid")
    middle.mount(inner, "in")
    assert "extensions" not in await capabilities(server)
    inner.declare_extension("com.example/audit", {"level": 1})
    assert (await capabilities(server))["extensions"] == {"com.example/audit": {"level": 1}}
    inner.declare_extension("com.example/audit", {"level": 3})
    assert (await capabilities(server))["extensions"] == {"com.example/audit": {"level": 3}}


async def test_a_task_tool_hidden_or_shown_again_is_declared_to_the_next() -> None:
    """Disabling a tool (here or in a mounted server) changes which tools may be tasks, so
    the next request is told whether tasks are served; enabling it again tells it too."""
    server, inner = Server("tasks-hidden"), Server("inner")
    server.mount(inner, "in")

    @server.tool(task=True)
    def slow(n: int) -> int:
        return n

    @inner.tool(task=True)
    def later(n: int) -> int:
        return n

    assert TASKS in (await capabilities(server))["extensions"]
    server.disable("slow")
    assert TASKS in (await capabilities(server))["extensions"]
    inner.disable("later")
    assert TASKS not in (await capabilities(server)).get("extensions", {})
    server.enable("slow")
    assert TASKS in (await capabilities(server))["extensions"]
    server.disable("slow")
    inner.enable("later")
    assert TASKS in (await capabilities(server))["extensions"]


async def test_settings_changed_after_a_request_are_served_to_the_next() -> None:
    """The features, the instructions and the server's info are settings, not counted
    changes: one assigned after a request still reaches the next."""
    server = Server("settings-later")

    @server.tool()
    def echo(text: str) -> str:
        return text

    first = (await serve(server, "server/discover"))["result"]
    assert "tools" in first["capabilities"]
    assert "instructions" not in first
    server.features = frozenset[Feature]({"prompts"})
    server.instructions = "Say hello."
    answer = (await serve(server, "server/discover"))["result"]
    assert "tools" not in answer["capabilities"] and "prompts" in answer["capabilities"]
    assert answer["instructions"] == "Say hello."


class NoTokens:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        raise InvalidToken("no token is good")


class Marking(TypedMiddleware):
    """Says in `server/discover`'s instructions that it saw the request."""

    async def on_discover(self, ctx: Context, call_next: AnswerNext) -> dict[str, Any]:
        return {**(await call_next()), "instructions": "marked"}


async def test_middleware_added_after_a_request_sees_the_next() -> None:
    """Middleware is a setting the reading session is made with (its hooks say which
    handshake requests it hands out): one added after a request sees the next."""
    server = Server("middleware-later")
    assert "instructions" not in (await serve(server, "server/discover"))["result"]
    server.add_middleware(Marking())
    assert (await serve(server, "server/discover"))["result"]["instructions"] == "marked"


SETTINGS: list[tuple[str, Any, str]] = [
    ("info", Implementation(name="renamed", version="2"), "server_info"),
    ("cache", CachePolicy(ttl_ms=5000, scope="public"), "modern.cache"),
    ("max_message_size", 12345, "max_message_size"),
    ("max_json_depth", 7, "max_json_depth"),
    ("max_inflight", 3, "max_inflight"),
]


@pytest.mark.parametrize(("setting", "value", "held_as"), SETTINGS)
async def test_a_setting_replaced_after_a_request_is_read_with_by_the_next(
    setting: str, value: Any, held_as: str
) -> None:
    """Each setting the reading session is built with, replaced after a request, is the
    one the next request is read with (the server counts its replacement as a change)."""
    server = Server("replaced")
    await serve(server, "server/discover")
    before = server._request_peers.reader()
    setattr(server, setting, value)
    after = server._request_peers.reader()
    assert after is not before
    assert operator.attrgetter(held_as)(after) == value
    assert server._request_peers.reader() is after  # (and kept while nothing changes)


async def test_auth_given_after_a_request_is_declared_to_the_next() -> None:
    """Whether tasks/list is declared depends on auth (requestors told apart): auth given
    after a request changes what the next is told."""
    server = Server("auth-later")

    @server.tool(task=True)
    def slow(n: int) -> int:
        return n

    await capabilities(server)
    declared = server.capabilities()
    server.auth = ProtectedResource(verifier=NoTokens())
    assert server.capabilities() != declared
    assert server._request_peers.reader().capabilities == server.capabilities()
