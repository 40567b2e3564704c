"""`mcpkit.stores.approvals`: a link is unguessable and expires, a decision is used once, one
caller cannot hold more than its share nor take another's; and a `when_cannot_ask="url"`
tool refuses a store shared with other processes, whose approval page would not see them."""

from __future__ import annotations

import asyncio
import os
import pathlib
import threading

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server.asking.out_of_band import binding_of
from mcpkit.stores.approvals import MAX_APPROVALS_PER_CALLER, Approvals


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_decision_is_taken_once_by_the_call_it_binds() -> None:
    approvals = Approvals()
    opened = approvals.open("alice", "b1", "deploy", "Deploy?")
    assert approvals.open("alice", "b1", "deploy", "Deploy?") is opened  # the same link
    assert approvals.take("alice", "b1") is None  # undecided
    assert approvals.decide(opened.token, "not the form's", "approved") is None
    assert approvals.decide(opened.token, opened.form_token, "approved") is opened
    assert approvals.shown(opened.token) is None  # decided: the page is gone
    assert approvals.take("bob", "b1") is None and approvals.take("alice", "b2") is None
    assert approvals.take("alice", "b1") == "approved"
    assert approvals.take("alice", "b1") is None and len(approvals) == 0
    assert len(opened.token) >= 40 and opened.token != opened.form_token


def test_links_expire() -> None:
    clock = Clock()
    approvals = Approvals(ttl=60, clock=clock)
    opened = approvals.open(None, "b", "deploy", "Deploy?")
    clock.now = 60
    assert approvals.shown(opened.token) is None
    assert approvals.decide(opened.token, opened.form_token, "approved") is None
    assert len(approvals) == 0


def test_one_caller_holds_a_bounded_number_and_loses_its_oldest_first() -> None:
    approvals = Approvals()
    first = approvals.open("alice", "b0", "deploy", "?")
    others = approvals.open("bob", "b0", "deploy", "?")
    for n in range(1, MAX_APPROVALS_PER_CALLER + 1):
        approvals.open("alice", f"b{n}", "deploy", "?")
    assert approvals.shown(first.token) is None  # alice's oldest went
    assert approvals.shown(others.token) is others  # bob's did not
    assert len(approvals) == MAX_APPROVALS_PER_CALLER + 1


async def test_a_shared_store_is_refused_saying_why(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server("s", store=f"sqlite:///{tmp_path / 'state.db'}")

    @server.tool(when_cannot_ask="url")
    async def deploy(ctx: Context) -> str:
        """Deploy."""
        await ctx.elicit("Deploy?", bool)
        return "deployed"

    async with asyncio.timeout(10), Client(server, protocol="2025-11-25") as client:
        result = await client.call_tool("deploy", {})
    assert result.is_error is True
    assert "the server's store is shared with other processes" in caplog.text


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


def test_with_several_workers_a_url_fallback_is_refused_at_start() -> None:
    server = Server("s")

    @server.tool(when_cannot_ask="url")
    async def deploy(ctx: Context) -> str:
        """Deploy."""
        await ctx.elicit("Deploy?", bool)
        return "deployed"

    with pytest.raises(SystemExit, match=r"workers=2: tools 'deploy' .* with 2 workers"):
        server.run(transport="http", workers=2, port=0)  # refused before anything starts
