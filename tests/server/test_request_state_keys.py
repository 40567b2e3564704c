"""The requestState key rotates without failing the requests in flight: a server given several
keys seals with the first and opens what any of them sealed (`request_state_key=[new, old]`,
or MCPKIT_REQUEST_STATE_KEY="new,old")."""

from __future__ import annotations

from typing import Any

import pytest

from mcpkit import Context, McpError, Server
from mcpkit.server.asking.request_state import KEY_ENV, StateSeal
from mcpkit.testing import raw_session

OLD, NEW = "old-key-" + "o" * 24, "new-key-" + "n" * 24
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
GREET = {"name": "greet", "arguments": {}}


def greeter(key: Any) -> Server:
    server = Server("greeter", request_state_key=key)

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Ask a name, then greet it."""
        who = await ctx.elicit("Your name?", NAME)
        assert who.data is not None
        return f"hello {who.data['name']}"

    return server


async def send(server: Server, params: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
    }
    async with raw_session(server, initialize=False) as peer:
        reply: dict[str, Any] = await peer.request("tools/call", {**params, "_meta": meta})
    return reply


async def test_a_request_in_flight_survives_the_rotation() -> None:
    asked = (await send(greeter(OLD), GREET))["result"]
    answers = {"q1": {"action": "accept", "content": {"name": "Ada"}}}
    retry = {**GREET, "inputResponses": answers, "requestState": asked["requestState"]}
    done = await send(greeter([NEW, OLD]), retry)  # deployed mid-request, the old key kept
    assert done["result"]["content"][0]["text"] == "hello Ada"


def test_the_first_key_seals_and_any_opens() -> None:
    rotating, old_only, new_only = StateSeal([NEW, OLD]), StateSeal(OLD), StateSeal(NEW.encode())
    assert rotating.open(old_only.seal("b", None, {"n": 1}), "b", None).content == {"n": 1}
    sealed = rotating.seal("b", None, {"n": 2})
    assert new_only.open(sealed, "b", None).content == {"n": 2}
    with pytest.raises(McpError, match="sealed with another key"):
        old_only.open(sealed, "b", None)  # the old key is for opening only


def test_the_variable_names_several_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, f"{NEW}, {OLD}")
    from_env = StateSeal()
    assert from_env.shared
    assert from_env.open(StateSeal(OLD).seal("b", None, {}), "b", None).content == {}
    assert StateSeal(NEW).open(from_env.seal("b", None, {}), "b", None).content == {}


@pytest.mark.parametrize(
    ("key", "says"), [([], "empty list"), ([NEW, "short"], "at least 16 bytes")]
)
def test_unusable_key_lists_are_refused(key: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Server("s", request_state_key=key)
