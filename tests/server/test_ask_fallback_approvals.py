"""`mcpkit.stores.approvals`: a link is unguessable and expires, a decision is used once, one
caller cannot hold more than its share nor take another's, of two processes deciding at once
one does, and a store outage is a page saying so; over stdio a `when_cannot_ask="url"` tool
is refused (tests/http/test_shared_overflow_and_approvals.py: workers sharing a store)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import threading

import pytest
from _redis_server import shared_store_url

from mcpkit import Context, Server
from mcpkit._asgi import Message
from mcpkit.server.asking.out_of_band import binding_of
from mcpkit.stores.approvals import MAX_APPROVALS_PER_CALLER, Approvals, approvals_of
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import MemoryKeyValueStore
from mcpkit.stores.replay import MemoryReplayCache
from mcpkit.stores.url import open_store
from mcpkit.transports.deployment.approval_page import serve_approval_page


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def approvals_in(kv: MemoryKeyValueStore | None = None, *, ttl: float = 600) -> Approvals:
    return Approvals(MemoryKeyValueStore() if kv is None else kv, MemoryReplayCache(), ttl)


async def test_a_decision_is_taken_once_by_the_call_it_binds() -> None:
    approvals = approvals_in()
    opened = await approvals.open("alice", "b1", "deploy", "Deploy?")
    assert opened is not None
    assert await approvals.open("alice", "b1", "deploy", "Deploy?") == opened  # the same link
    assert await approvals.take("alice", "b1") is None  # undecided
    assert await approvals.decide(opened.token, "not the form's", "approved") is None
    decided = await approvals.decide(opened.token, opened.form_token, "approved")
    assert decided is not None and decided.token == opened.token
    assert await approvals.shown(opened.token) is None  # decided: the page is gone
    assert await approvals.decide(opened.token, opened.form_token, "declined") is None
    assert await approvals.take("bob", "b1") is None
    assert await approvals.take("alice", "b2") is None
    assert await approvals.take("alice", "b1") == "approved"
    assert await approvals.take("alice", "b1") is None
    assert len(opened.token) >= 40 and opened.token != opened.form_token


async def test_of_two_processes_deciding_or_taking_at_once_one_does() -> None:
    kv, replay = MemoryKeyValueStore(), MemoryReplayCache()
    one, other = Approvals(kv, replay), Approvals(kv, replay)  # (two workers)
    opened = await one.open("alice", "b", "deploy", "Deploy?")
    assert opened is not None
    decisions = await asyncio.gather(
        one.decide(opened.token, opened.form_token, "approved"),
        other.decide(opened.token, opened.form_token, "declined"),
    )
    won = [d.decision for d in decisions if d is not None]
    assert len(won) == 1
    taken = await asyncio.gather(one.take("alice", "b"), other.take("alice", "b"))
    assert sorted(taken, key=str) == sorted([None, won[0]], key=str)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_in_a_shared_store_of_two_deciding_at_once_one_does(
    kind: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest
) -> None:
    url = shared_store_url(kind, tmp_path, request, db=7, lease=10)
    one, other = open_store(url), open_store(url)  # two processes' connections to one store
    try:
        async with asyncio.timeout(10):
            first, second = approvals_of(one), approvals_of(other)
            opened = await first.open("alice", "b", "deploy", "Deploy?")
            assert opened is not None
            decisions = await asyncio.gather(
                *(
                    side.decide(opened.token, opened.form_token, decision)
                    for side in (first, second, second, first)
                    for decision in ("approved", "declined")
                )
            )
            won = {d.decision for d in decisions if d is not None}
            assert len(won) == 1  # one outcome (the same one pressed twice may both say so)
            taken = await asyncio.gather(first.take("alice", "b"), second.take("alice", "b"))
            assert sorted(taken, key=str) == sorted([None, *won], key=str)
    finally:
        await one.aclose()
        await other.aclose()


async def test_links_expire() -> None:
    clock = Clock()
    approvals = approvals_in(MemoryKeyValueStore(clock=clock), ttl=60)
    opened = await approvals.open(None, "b", "deploy", "Deploy?")
    assert opened is not None
    clock.now = 60
    assert await approvals.shown(opened.token) is None
    assert await approvals.decide(opened.token, opened.form_token, "approved") is None


async def test_one_caller_holds_a_bounded_number_and_cannot_take_anothers() -> None:
    approvals = approvals_in()
    first = await approvals.open("alice", "b0", "deploy", "?")
    others = await approvals.open("bob", "b0", "deploy", "?")
    for n in range(1, MAX_APPROVALS_PER_CALLER):
        assert await approvals.open("alice", f"b{n}", "deploy", "?") is not None
    assert await approvals.open("alice", "past", "deploy", "?") is None  # alice's are all used
    assert first is not None and await approvals.shown(first.token) == first  # kept
    assert others is not None and await approvals.shown(others.token) == others
    assert await approvals.open("bob", "b1", "deploy", "?") is not None  # bob still may


class Down(MemoryKeyValueStore):
    """A store that does not answer (as `bounded` reports one past its timeout)."""

    async def get(self, key: str) -> bytes | None:
        raise StoreUnavailable("the store did not answer within 1 s")


async def test_a_store_outage_shows_on_the_page_and_never_hangs() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "query_string": b"t=abc", "headers": []}
    async with asyncio.timeout(10):
        await serve_approval_page(scope, receive, send, approvals_in(Down()))
    assert sent[0]["status"] == 503 and b"cannot reach the store" in sent[1]["body"]


async def test_over_stdio_a_url_fallback_is_refused_at_start() -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="url")
    async def deploy(ctx: Context) -> str:
        """Deploy."""
        await ctx.elicit("Deploy?", bool)
        return "deployed"

    @server.tool(when_cannot_ask="confirm")
    async def undo(ctx: Context) -> str:
        """Undo."""
        await ctx.elicit("Undo?", bool)
        return "undone"

    with pytest.raises(ValueError, match=r"tools 'deploy' have when_cannot_ask='url'.* over stdio"):
        await server.run_stdio()  # refused before it reads anything


async def test_over_stdio_other_fallbacks_start() -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="confirm")
    async def undo(ctx: Context) -> str:
        """Undo."""
        await ctx.elicit("Undo?", bool)
        return "undone"

    reading, writing = os.pipe()
    os.close(writing)  # end of input at once: the session starts and ends
    with open(reading, "rb") as stdin, open(os.devnull, "wb") as stdout:
        async with asyncio.timeout(10):
            await server.run_stdio(stdin=stdin, stdout=stdout)


def test_the_binding_holds_the_arguments_and_the_type_of_what_was_injected() -> None:
    def bound(**arguments: object) -> str:
        return binding_of("s", "deploy", dict(arguments), "Deploy?")

    assert bound(env="prod") == bound(env="prod")
    assert bound(env="prod") != bound(env="test")
    assert binding_of("s", "deploy", {}, "Deploy?") != binding_of("s", "deploy", {}, "Go?")
    assert binding_of("s", "deploy", {}, "Deploy?") != binding_of("t", "deploy", {}, "Deploy?")
    # An object a framework injects is not JSON: it counts by its type, so two calls with
    # their own instances are the same call.
    assert bound(env="prod", db=threading.Lock()) == bound(env="prod", db=threading.Lock())
