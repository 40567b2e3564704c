"""Every change reaches sessions through the server's broker (mcpkit.stores.broker), and a
response that no request awaits goes to the broker too, never silently away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from _processes import starts

from mcpkit import Client, Server
from mcpkit.client import NotificationHandler
from mcpkit.protocol.events import StrayCancel, StrayResponse
from mcpkit.runtime.connection import Connection
from mcpkit.server.session import ServerSessionHandle
from mcpkit.stores.broker import Broker, Change, ChangeHandler, MemoryBroker, SharedBroker
from mcpkit.stores.sessions import SessionRecord
from mcpkit.testing import raw_session

WAIT = 5.0


class Recording(MemoryBroker):
    """A broker that keeps what it was given (and otherwise is the memory broker)."""

    __slots__ = ("changes", "strays")

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[Change] = []
        self.strays: list[tuple[str, StrayResponse]] = []

    def publish(self, change: Change) -> None:
        self.changes.append(change)
        super().publish(change)

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        self.strays.append((session_id, response))
        super().forward_response(session_id, response)


class Elsewhere:
    """A broker standing for the other processes of a deployment: what this server
    publishes goes nowhere (it is 'sent'), and only what `arrive` delivers reaches the
    handlers, as a shared broker's reader would."""

    def __init__(self) -> None:
        self.sent: list[Change] = []
        self._handlers: list[ChangeHandler] = []

    def publish(self, change: Change) -> None:
        self.sent.append(change)

    def subscribe(self, handler: ChangeHandler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    def forward_response(self, session_id: str, response: StrayResponse) -> None:
        pass

    def arrive(self, change: Change) -> None:
        for handler in self._handlers:
            handler(change)


def notes(broker: Broker | None = None) -> Server:
    server = Server("notes", broker=broker)

    @server.tool
    def one() -> str:
        return "1"

    @server.resource("notes://today")
    def today() -> str:
        return "today"

    return server


def listening() -> tuple[list[tuple[str, Any]], asyncio.Event, NotificationHandler]:
    seen: list[tuple[str, Any]] = []
    got = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        seen.append((method, params))
        got.set()

    return seen, got, on_notification


async def test_a_list_change_is_published_and_delivered_by_the_broker() -> None:
    broker = Recording()
    server = notes(broker)
    seen, got, on_notification = listening()
    async with Client(server, on_notification=on_notification) as client:

        @server.tool
        def two() -> str:
            return "2"

        await asyncio.wait_for(got.wait(), WAIT)
        assert broker.changes == [Change("notifications/tools/list_changed")]
        assert [m for m, _ in seen] == ["notifications/tools/list_changed"]
        assert "two" in [t.name for t in await client.list_tools()]


async def test_a_resource_update_goes_through_the_broker_to_its_subscribers_only() -> None:
    broker = Recording()
    server = notes(broker)
    seen, got, on_notification = listening()
    other_seen, _, on_other = listening()
    async with (
        Client(server, on_notification=on_notification) as client,
        Client(server, on_notification=on_other) as other,
    ):
        await client.subscribe("notes://today")
        await server.notify_resource_updated("notes://today")
        await asyncio.wait_for(got.wait(), WAIT)
        await other.ping()
    assert broker.changes == [Change("notifications/resources/updated", "notes://today")]
    assert [(m, p.uri) for m, p in seen] == [("notifications/resources/updated", "notes://today")]
    assert other_seen == []


async def test_changes_from_another_process_reach_this_process_s_sessions() -> None:
    broker = Elsewhere()
    server = notes(broker)
    seen, got, on_notification = listening()
    async with Client(server, on_notification=on_notification) as client:

        @server.prompt
        def hello() -> str:
            return "hi"

        await client.ping()
        assert broker.sent == [Change("notifications/prompts/list_changed")]
        assert seen == []  # published, but only the broker delivers
        broker.arrive(Change("notifications/tools/list_changed"))
        await asyncio.wait_for(got.wait(), WAIT)
        assert [m for m, _ in seen] == ["notifications/tools/list_changed"]


async def test_a_response_nothing_awaits_goes_to_the_broker() -> None:
    broker = Recording()
    server = notes(broker)
    async with raw_session(server) as peer:
        await peer.send({"jsonrpc": "2.0", "id": "host-b-7", "result": {"roots": []}})
        await peer.send({"jsonrpc": "2.0", "id": 99, "error": {"code": -1, "message": "late"}})
        assert (await peer.request("ping"))["result"] == {}  # the session goes on
        (handle,) = server.sessions
        assert [(sid, s.request_id) for sid, s in broker.strays] == [
            (handle.id, "host-b-7"),
            (handle.id, 99),
        ]
    assert broker.stray_responses == 2


def test_the_memory_broker_keeps_going_past_a_broken_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = MemoryBroker()
    got: list[Change] = []

    def broken(change: Change) -> None:
        raise RuntimeError("boom")

    stop_broken = broker.subscribe(broken)
    stop = broker.subscribe(got.append)
    broker.publish(Change("notifications/tools/list_changed"))
    assert got == [Change("notifications/tools/list_changed")]
    assert "a handler of notifications/tools/list_changed failed" in caplog.text
    stop_broken()
    stop()
    stop()  # twice is harmless
    broker.publish(Change("notifications/prompts/list_changed"))
    assert len(got) == 1


def test_the_memory_broker_is_a_broker() -> None:
    assert isinstance(MemoryBroker(), Broker)
    assert isinstance(Elsewhere(), Broker)
    assert isinstance(Server("s").broker, MemoryBroker)
    assert not isinstance(MemoryBroker(), SharedBroker)


class Shared(Recording):
    """A broker other processes share (`SharedBroker`), recording what the server asks of it
    beyond a `Broker`."""

    __slots__ = ("cancels", "forwarded_cancels", "responses", "started")

    def __init__(self) -> None:
        super().__init__()
        self.started: list[float | None] = []
        self.responses: list[Callable[[str, bytes], None]] = []
        self.cancels: list[Callable[[str, int | str, str | None], None]] = []
        self.forwarded_cancels: list[tuple[str, int | str, str | None]] = []

    async def start(self, timeout: float | None = None) -> bool:
        self.started.append(timeout)
        return True

    def subscribe_responses(self, handler: Callable[[str, bytes], None]) -> Callable[[], None]:
        self.responses.append(handler)
        return lambda: self.responses.remove(handler)

    def subscribe_cancels(
        self, handler: Callable[[str, int | str, str | None], None]
    ) -> Callable[[], None]:
        self.cancels.append(handler)
        return lambda: self.cancels.remove(handler)

    def forward_cancel(self, session_id: str, request_id: int | str, reason: str | None) -> None:
        self.forwarded_cancels.append((session_id, request_id, reason))


@starts(2)
async def test_a_shared_broker_is_told_apart_when_the_server_takes_it() -> None:
    """A `SharedBroker` is started with the server, hands it what other processes forward,
    and is told of a cancel for a request served elsewhere; a plain `Broker` is asked for
    none of it (`Elsewhere` has none of those methods, and serves on)."""
    broker = Shared()
    assert isinstance(broker, SharedBroker)
    server = Server("s", broker=broker)
    assert len(broker.responses) == 1 and len(broker.cancels) == 1
    async with server.running():
        assert len(broker.started) == 1
    handle = ServerSessionHandle(
        server, lambda _: cast(Connection, SimpleNamespace(session=None)), SessionRecord(id="sid")
    )
    server.handle_event(handle, StrayCancel(request_id=7, reason="enough"))
    assert broker.forwarded_cancels == [("sid", 7, "enough")]
    # What is forwarded for a session this process does not hold goes nowhere, quietly.
    broker.responses[0]("no-such-session", b"{}")
    broker.cancels[0]("no-such-session", 7, None)

    plain = Server("p", broker=Elsewhere())
    async with plain.running():
        plain.handle_event(handle, StrayCancel(request_id=7))


def test_a_server_finds_the_session_a_forwarded_message_names_by_its_id() -> None:
    """A client's answer or cancel that another process hands on names only the session: the
    server finds its copy by id (`HeldSessions`), not by looking at each session it holds."""
    server = Server("s")

    def held(sid: str) -> ServerSessionHandle:
        link = cast(Connection, SimpleNamespace(session=None))  # no runtime: only its id is read
        return ServerSessionHandle(server, lambda _: link, SessionRecord(id=sid))

    handles = [held(f"sid-{n}") for n in range(3)]
    for handle in handles:
        server.sessions.add(handle)
    assert server.sessions.by_id("sid-1") is handles[1]
    newer = held("sid-1")
    server.sessions.add(newer)  # a copy made again while the old one ends
    server.sessions.discard(handles[1])
    assert server.sessions.by_id("sid-1") is newer
    server.sessions.discard(newer)
    server.sessions.discard(newer)  # twice: harmless
    server.sessions.discard("not a session")
    assert server.sessions.by_id("sid-1") is None
    assert set(server.sessions) == {handles[0], handles[2]}
    server.sessions.remove(handles[0])
    assert server.sessions.by_id("sid-0") is None
    server.sessions.clear()
    assert server.sessions.by_id("sid-2") is None and not server.sessions
