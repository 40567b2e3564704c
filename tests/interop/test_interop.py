"""Interoperability over stdio with the official Python SDK (`mcp`) and TypeScript SDK.

Their clients drive the mcpkit server, the mcpkit client drives their servers, and, so the
peers themselves are proven, each SDK's client drives the other SDK's server. Each peer
client prints one JSON summary (shape in README.md); the assertions below judge it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from interop_harness import run_peer_client, server_command

SUITE = ""  # which peers (see interop_harness)

# The newest revision mcpkit, the TS SDK v1 and the official SDK all reach by the initialize
# handshake; the official SDK 2.x and mcpkit also speak 2026-07-28, which their clients
# find with server/discover before any handshake.
HANDSHAKE_REVISION = "2025-11-25"
MODERN_REVISION = "2026-07-28"
MODERN_CLIENTS = frozenset({"official"})
MODERN_SERVERS = frozenset({"official", "mcpkit"})


def expected_revision(client: str, server: str) -> str:
    """The revision a pairing speaks: 2026-07-28 where both ends do, else the handshake's."""
    modern = client in MODERN_CLIENTS and server in MODERN_SERVERS
    return MODERN_REVISION if modern else HANDSHAKE_REVISION


SERVER_NAMES = {"official": "official-interop", "ts": "ts-interop", "mcpkit": "mcpkit-interop"}
ECHO_TEXT = "hello interop"  # what both peer clients send to `echo`
REVIEW_CODE = "x = 1"  # what both peer clients pass to prompt `review`
SLOW_PROGRESS = [[1, 3], [2, 3], [3, 3]]  # `slow` called with steps=3


def check_summary(summary: dict[str, Any], *, server: str) -> None:
    """Assert what every peer client must have seen of any peer server."""
    assert summary["server_name"] == SERVER_NAMES[server]
    assert summary["server_version"] == "1.0.0"
    assert summary["instructions"] == "interop test server"
    revision = expected_revision(summary["client"], server)
    assert summary["protocol_version"] == revision
    assert summary["tools"] == ["add", "echo", "slow"]
    schema = summary["add_input_schema"]
    assert schema["type"] == "object"
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "a": "integer",
        "b": "integer",
    }
    assert sorted(schema["required"]) == ["a", "b"]
    assert summary["add_output_schema"]["properties"]["result"]["type"] == "integer"
    assert summary["add"] == {"structured": {"result": 5}, "text": "5", "is_error": False}
    assert summary["echo"] == {"text": ECHO_TEXT}
    assert summary["slow"]["text"] == "done"
    assert summary["resources"] == ["config://app"]
    assert summary["templates"] == ["users://{user_id}/profile"]
    assert summary["prompts"] == ["review"]
    assert json.loads(summary["config"]["text"]) == {"debug": False}
    assert summary["config"]["mime_type"] == "application/json"
    assert summary["profile"] == {"text": "profile of 42"}
    messages = summary["review"]["messages"]
    assert messages and messages[0]["role"] == "user"
    assert REVIEW_CODE in messages[0]["text"]
    # 2026-07-28 has no ping; the peer clients record None there.
    assert summary["ping"] is (True if revision == HANDSHAKE_REVISION else None)


def check_progress(summary: dict[str, Any]) -> None:
    """Assert `slow` reported its three steps, in order, with the caller's token."""
    slow = summary["slow"]
    if summary["client"] == "official":
        assert slow["progress"] == SLOW_PROGRESS
        return
    # The TS client drops progress that arrives in the same read as the response
    # (typescript-sdk issue #2580), so the wire is the authority; what its callback did
    # get must still be a correct, in-order prefix.
    assert slow["progress_on_wire"] == SLOW_PROGRESS
    assert slow["progress"] == SLOW_PROGRESS[: len(slow["progress"])]


# ------------------------------------------------------------------ SDK clients vs servers


@pytest.mark.parametrize(
    ("client", "server"),
    [
        pytest.param("official", "mcpkit", id="official-client-vs-mcpkit-server"),
        pytest.param("ts", "mcpkit", id="ts-client-vs-mcpkit-server"),
        # The peers against each other: proof that they, and these checks, are right.
        pytest.param("official", "ts", id="official-client-vs-ts-server"),
        pytest.param("ts", "official", id="ts-client-vs-official-server"),
    ],
)
def test_peer_client_against_server(client: str, server: str) -> None:
    summary = run_peer_client(client, server, SUITE)
    assert summary["client"] == client
    check_summary(summary, server=server)
    check_progress(summary)


# ------------------------------------------------------------------ mcpkit client vs SDK servers


def text_of(item: Any) -> str:
    """The `text` of a content block or resource contents item."""
    text = item.text
    assert isinstance(text, str), f"expected text content, got {item!r}"
    return text


#: The revision "auto" picks: the official Python SDK (2.x) speaks the modern one too, the
#: TypeScript SDK v1 only the legacy era (the client falls back to initialize).
AUTO_REVISION = {"official": "2026-07-28", "ts": HANDSHAKE_REVISION}


@pytest.mark.parametrize("protocol", [HANDSHAKE_REVISION, "auto"])
@pytest.mark.parametrize("server", ["official", "ts"])
async def test_mcpkit_client_against_server(server: str, protocol: str) -> None:
    command = server_command(server, SUITE)
    # Imported here, not at the top, so that while mcpkit's client is unfinished only these
    # tests fail and the peer-vs-peer ones above still run.
    from mcpkit import Client

    progress: list[tuple[float, float | None]] = []
    # Every wait below is bounded by the async test timeout in tests/conftest.py.
    async with Client(command, protocol=protocol) as client:
        assert client.server_info.name == SERVER_NAMES[server]
        expected = HANDSHAKE_REVISION if protocol == HANDSHAKE_REVISION else AUTO_REVISION[server]
        assert client.protocol_version == expected
        tools = {tool.name: tool for tool in await client.list_tools()}
        assert sorted(tools) == ["add", "echo", "slow"]
        assert set(tools["add"].input_schema["properties"]) == {"a", "b"}
        output_schema = tools["add"].output_schema
        assert output_schema is not None
        assert output_schema["properties"]["result"]["type"] == "integer"

        add = await client.call_tool("add", {"a": 2, "b": 3})
        assert not add.is_error
        assert add.structured_content == {"result": 5}
        assert text_of(add.content[0]) == "5"
        echo = await client.call_tool("echo", {"text": ECHO_TEXT})
        assert text_of(echo.content[0]) == ECHO_TEXT
        slow = await client.call_tool(
            "slow", {"steps": 3}, progress=lambda p, t, m: progress.append((p, t))
        )
        assert text_of(slow.content[0]) == "done"
        assert progress == [(1, 3), (2, 3), (3, 3)]

        assert [r.uri for r in await client.list_resources()] == ["config://app"]
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates] == ["users://{user_id}/profile"]
        config = (await client.read_resource("config://app")).contents[0]
        assert json.loads(text_of(config)) == {"debug": False}
        assert config.mime_type == "application/json"
        profile = await client.read_resource("users://42/profile")
        assert text_of(profile.contents[0]) == "profile of 42"

        assert [p.name for p in await client.list_prompts()] == ["review"]
        prompt = await client.get_prompt("review", {"code": REVIEW_CODE})
        assert prompt.messages[0].role == "user"
        assert REVIEW_CODE in text_of(prompt.messages[0].content)
        await client.ping()
