"""What a hostile client sends a parent with mounts: names and URIs that look like the
namespace but are not, path tricks, huge and odd values. Each gets the answer a plain server
gives (-32602 or -32002), nothing reaches the mounted server's handlers with a URI it does not
have, and the session goes on. And the parent's view of a mounted server that changes all the
time holds bounded memory."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any, Literal

import pytest

from mcpkit import Server
from mcpkit.protocol import codes
from mcpkit.server.catalog.tools import make_tool
from mcpkit.testing import raw_session

SEEN: list[str] = []


def make_parent() -> Server:
    child = Server("child")

    @child.tool
    def ping_me() -> str:
        return "pong"

    @child.resource("notes://today")
    def today() -> str:
        return "today"

    @child.resource("notes://day/{day}")
    def day(day: str) -> str:
        SEEN.append(day)
        return day

    @child.prompt
    def hello(tone: Literal["warm", "cold"] = "warm") -> str:
        return f"hello, {tone}"

    parent = Server("parent")
    parent.mount(child, namespace="kid")
    return parent


UNKNOWN_TOOLS = ["kid", "kid_", "_ping_me", "ping_me", "KID_ping_me", "kid_ping_me ", "kid_" * 1000]
UNKNOWN_URIS = [
    "notes://kid",
    "notes://kid/",
    "notes://today",
    "notes://kid//today",
    "notes://kidtoday",
    "notes://kid/kid/today",
    "notes:kid/today",
    "NOTES://kid/today/",
    "notes://kid/../today",
    "kid",
    "",
    "notes://kid/" + "a/" * 5000,
]


async def test_names_that_only_look_mounted_are_unknown() -> None:
    async with raw_session(make_parent()) as peer:
        for name in UNKNOWN_TOOLS:
            answer = await peer.request("tools/call", {"name": name, "arguments": {}})
            assert answer["error"]["code"] == codes.INVALID_PARAMS, name
            prompt = await peer.request("prompts/get", {"name": name})
            assert prompt["error"]["code"] == codes.INVALID_PARAMS, name
        ok = await peer.request("tools/call", {"name": "kid_ping_me", "arguments": {}})
        assert ok["result"]["content"][0]["text"] == "pong"


@pytest.mark.parametrize("uri", UNKNOWN_URIS, ids=lambda uri: uri[:40])
async def test_uris_that_only_look_mounted_are_not_found(uri: str) -> None:
    SEEN.clear()
    async with raw_session(make_parent()) as peer:
        answer = await peer.request("resources/read", {"uri": uri})
        assert answer["error"]["code"] == codes.RESOURCE_NOT_FOUND, answer
        refused = await peer.request("resources/subscribe", {"uri": uri})
        assert refused["error"]["code"] == codes.RESOURCE_NOT_FOUND
        assert (await peer.request("ping"))["result"] == {}
    assert SEEN == []


async def test_a_template_match_reaches_the_mounted_server_with_its_own_uri() -> None:
    SEEN.clear()
    async with raw_session(make_parent()) as peer:
        answer = await peer.request("resources/read", {"uri": "notes://kid/day/a%3Fb"})
        assert answer["result"]["contents"][0]["uri"] == "notes://kid/day/a%3Fb"
        # An encoded '/' in a `{day}` value is refused there (docs/server.md, "Resources").
        answer = await peer.request("resources/read", {"uri": "notes://kid/day/a%2Fb"})
        assert answer["error"]["code"] == codes.INVALID_PARAMS
    assert SEEN == ["a?b"]


async def test_completion_refs_that_only_look_mounted_are_refused() -> None:
    async with raw_session(make_parent()) as peer:
        for ref in [
            {"type": "ref/prompt", "name": "kid"},
            {"type": "ref/prompt", "name": "hello"},
            {"type": "ref/resource", "uri": "notes://day/{day}"},
            {"type": "ref/resource", "uri": "notes://kid/day/{other}"},
        ]:
            params: dict[str, Any] = {"ref": ref, "argument": {"name": "day", "value": ""}}
            answer = await peer.request("completion/complete", params)
            assert answer["error"]["code"] == codes.INVALID_PARAMS, ref
        params = {
            "ref": {"type": "ref/prompt", "name": "kid_hello"},
            "argument": {"name": "tone", "value": "w"},
        }
        answer = await peer.request("completion/complete", params)
        assert answer["result"]["completion"]["values"] == ["warm"]


def _churn(child: Server, parent: Server, rounds: int) -> None:
    spec = make_tool(lambda: 1, name="t")  # built once: the point is the view, not make_tool
    for i in range(rounds):
        child.tools.add(f"t{i}", spec)
        assert parent.tools.get(f"kid_t{i}") is not None  # the view is rebuilt
        child.tools.remove(f"t{i}")
        assert len(parent.tools.items()) == 1


def test_a_mounted_server_that_changes_all_the_time_holds_bounded_memory() -> None:
    parent = make_parent()
    child = parent.mounts[0].server
    _churn(child, parent, 1_000)  # warm up: caches of msgspec, logging, the interpreter
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        _churn(child, parent, 5_000)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16 * 1024, after - before  # nothing kept per change
