"""A session outlives the process serving it: its record (mcpkit.stores.sessions) is written to
the app's session store, every live object is dropped (the first server stops), and a second
server, built afresh, rebuilds the session from the record when the client's next request
names it. The client carries on: same session id, same revision, same log level, same
subscriptions. (Sessions are 2025-11-25's: the client is pinned to it.)"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import msgspec
import pytest
from _serving import INITIALIZE, WAIT, headers, messages_of, open_session, serving

from mcpkit import Client, Context, Server
from mcpkit.protocol.terms import Terms
from mcpkit.stores import sessions as sessions_module
from mcpkit.stores.sessions import (
    MemorySessionStore,
    SessionRecord,
    SessionStore,
    TouchableSessionStore,
)
from mcpkit.types import ClientCapabilities, LoggingMessageNotificationParams

PING = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
SET_ERRORS = {"jsonrpc": "2.0", "id": 8, "method": "logging/setLevel", "params": {"level": "error"}}


def notes() -> Server:
    """The same server, as each process of a deployment builds it."""
    server = Server("notes", "1")

    @server.tool
    async def shout(ctx: Context) -> str:
        await ctx.info("a detail")
        await ctx.error("a problem")
        return "done"

    @server.resource("notes://today")
    def today() -> str:
        return "today"

    return server


class Counting(MemorySessionStore):
    __slots__ = ("puts",)

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    async def put(self, record: SessionRecord) -> None:
        self.puts += 1
        await super().put(record)


async def test_a_session_goes_on_in_a_server_built_afresh_from_its_record() -> None:
    store = MemorySessionStore()
    logs: list[LoggingMessageNotificationParams] = []

    def on_log(params: LoggingMessageNotificationParams) -> None:
        logs.append(params)

    first, second = notes(), notes()
    async with contextlib.AsyncExitStack() as stack, asyncio.timeout(WAIT * 3):
        app = first.http_app(session_store=store)
        async with serving(app) as base:
            port = int(base.rsplit(":", 1)[1])
            client = await stack.enter_async_context(
                Client(f"{base}/mcp", on_log=on_log, protocol="2025-11-25")
            )
            await client.set_logging_level("warning")
            await client.subscribe("notes://today")
            sid = client.session_id
            (handle,) = first.sessions
            assert sid is not None and handle.id == sid  # one id: the Mcp-Session-Id
            app.close_streams()  # what a SIGTERM does first (server.run, mcpkit run)
        # The first server has stopped, and every live object of the session with it.
        assert first.sessions == set()
        saved = await store.get(sid)
        assert saved is not None and saved.initialized
        assert saved.log_level == "warning" and saved.subscriptions == {"notes://today"}
        assert saved.revision == client.session.revision

        async with serving(second.http_app(session_store=store), port=port):
            result = await client.call_tool("shout")  # the same client, the same session
            assert result.content[0].text == "done"  # type: ignore[union-attr]
            (restored,) = second.sessions
            assert restored.id == sid and restored.log_level == "warning"
            assert restored.subscriptions == {"notes://today"}
            assert restored.protocol_version == saved.revision
            assert restored.client_info is not None
            assert restored.client_info.name == client.session.client_info.name
            # Only the level the client chose while the first server served it comes.
            assert [p.data for p in logs] == ["a problem"]
            await client.unsubscribe("notes://today")
            changed = await store.get(sid)
            assert changed is not None and changed.subscriptions == frozenset()
            await stack.aclose()  # the client, before its GET stream holds up the shutdown


async def test_updates_reach_a_restored_session_s_subscription() -> None:
    store = MemorySessionStore()
    async with asyncio.timeout(WAIT * 3):
        async with serving(notes().http_app(session_store=store)) as base:
            port = int(base.rsplit(":", 1)[1])
            async with httpx.AsyncClient() as http:
                sid = await open_session(http, f"{base}/mcp")
                subscribe = {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "resources/subscribe",
                    "params": {"uri": "notes://today"},
                }
                answer = await http.post(f"{base}/mcp", json=subscribe, headers=headers(sid))
                assert answer.status_code == 200
        second = notes()
        async with serving(second.http_app(session_store=store), port=port) as base:
            async with httpx.AsyncClient() as http:
                url = f"{base}/mcp"
                got: list[Any] = []
                async with http.stream("GET", url, headers=headers(sid)) as stream:
                    assert stream.status_code == 200
                    await second.notify_resource_updated("notes://today")
                    async for line in stream.aiter_lines():
                        if line.startswith("data: {"):
                            got.append(line)
                            break
                assert '"notifications/resources/updated"' in got[0]
                assert '"notes://today"' in got[0]


async def test_what_the_store_is_told() -> None:
    store = Counting()
    server = notes()
    async with asyncio.timeout(WAIT), serving(server.http_app(session_store=store)) as base:
        url = f"{base}/mcp"
        async with httpx.AsyncClient() as http:
            sid = await open_session(http, url)
            record = await store.get(sid)
            assert record is not None and record.initialized and record.owner is None
            puts = store.puts
            for _ in range(3):  # nothing changes: nothing is written
                assert (await http.post(url, json=PING, headers=headers(sid))).status_code == 200
            assert store.puts == puts
            assert (await http.post(url, json=SET_ERRORS, headers=headers(sid))).status_code == 200
            assert store.puts == puts + 1
            record = await store.get(sid)
            assert record is not None and record.log_level == "error"
            # DELETE ends the session everywhere: its record goes too.
            assert (await http.delete(url, headers=headers(sid))).status_code == 200
            assert await store.get(sid) is None
            assert (await http.post(url, json=PING, headers=headers(sid))).status_code == 404


class Slow(Counting):
    """A store under load: each write lands a while after it was asked for."""

    async def put(self, record: SessionRecord) -> None:
        await asyncio.sleep(0.3)
        await super().put(record)


async def test_what_a_request_changed_is_in_the_store_when_its_answer_arrives() -> None:
    """A client's next request may reach another process at once: the answer (or the 202)
    of what changed the session goes out once the record holds the change, however slow the
    store."""
    store = Slow()
    server = notes()
    async with asyncio.timeout(WAIT), serving(server.http_app(session_store=store)) as base:
        url = f"{base}/mcp"
        async with httpx.AsyncClient() as http:
            sid = await open_session(http, url)  # its 202 waited for `initialized`
            record = await store.get(sid)
            assert record is not None and record.initialized
            assert (await http.post(url, json=SET_ERRORS, headers=headers(sid))).status_code == 200
            record = await store.get(sid)
            assert record is not None and record.log_level == "error"
            puts = store.puts
            assert (await http.post(url, json=PING, headers=headers(sid))).status_code == 200
            assert store.puts == puts  # nothing changed: nothing written, nothing waited for


async def test_a_session_the_store_does_not_know_is_still_not_found() -> None:
    store: SessionStore = MemorySessionStore()
    await store.put(SessionRecord(id="half-open"))  # initialize never finished
    server = notes()
    async with asyncio.timeout(WAIT), serving(server.http_app(session_store=store)) as base:
        url = f"{base}/mcp"
        async with httpx.AsyncClient() as http:
            for sid in ("nobody", "half-open"):
                answer = await http.post(url, json=PING, headers=headers(sid))
                assert answer.status_code == 404, sid
            # A record on a revision this server does not speak is not restored either.
            await store.put(
                SessionRecord(
                    id="ancient", terms=Terms("2023-01-01", ClientCapabilities()), initialized=True
                )
            )
            answer = await http.post(url, json=PING, headers=headers("ancient"))
            assert answer.status_code == 404
            fresh = await http.post(url, json=INITIALIZE, headers=headers())
            assert fresh.status_code == 200 and messages_of(fresh)[0]["result"]
    assert server.sessions == set()


async def test_a_copy_taken_from_the_store_writes_nothing_back_until_it_changes() -> None:
    """Two processes hold one session. The copy one of them restored, or read again when the
    other changed the record, must not write the record back on its next request: written
    after its answer, that stale copy would overwrite what the other process wrote meanwhile
    (a log level set there was lost that way under load, tests/http/test_sqlite_workers.py)."""
    store = Counting()
    first, second = notes(), notes()
    one, two = first.http_app(session_store=store), second.http_app(session_store=store)
    async with (
        asyncio.timeout(WAIT),
        serving(one) as base_one,
        serving(two) as base_two,
        httpx.AsyncClient() as http,
    ):
        sid = await open_session(http, f"{base_one}/mcp")
        puts = store.puts
        assert (await http.post(f"{base_two}/mcp", json=PING, headers=headers(sid))).is_success
        assert store.puts == puts  # restored, as read: nothing to write back
        # The first process changes the record; the second reads it again (SESSION_CHANGED).
        assert (
            await http.post(f"{base_one}/mcp", json=SET_ERRORS, headers=headers(sid))
        ).is_success
        puts = store.puts
        copy = two.sessions.get(sid)
        assert copy is not None
        assert two.records is not None
        await two.records.refresh(sid, copy)
        assert (await http.post(f"{base_two}/mcp", json=PING, headers=headers(sid))).is_success
        assert store.puts == puts
        record = await store.get(sid)
        assert record is not None and record.log_level == "error"


class ReadAndWritten:
    """A store of a user's own that cannot `touch` a record (not a `TouchableSessionStore`):
    a keep-alive reads the record and writes it back. Counts its writes."""

    def __init__(self) -> None:
        self.kept = MemorySessionStore()
        self.puts = 0

    async def put(self, record: SessionRecord) -> None:
        self.puts += 1
        await self.kept.put(record)

    async def get(self, session_id: str) -> SessionRecord | None:
        return await self.kept.get(session_id)

    async def delete(self, session_id: str) -> None:
        await self.kept.delete(session_id)

    async def expire(self, before: float) -> list[str]:
        return await self.kept.expire(before)


async def test_a_copy_keeping_its_record_alive_takes_what_another_process_wrote() -> None:
    """A copy that changed nothing writes its record a quarter of the idle timeout after
    the last write, so that the store does not expire it, when its store cannot `touch` it
    (tests/http/test_session_keep_alive.py: those that can). It reads the record first: what
    another process wrote since (its SESSION_CHANGED not here yet) is taken, not overwritten
    with the copy's old log level."""
    store = ReadAndWritten()
    assert isinstance(store, SessionStore) and not isinstance(store, TouchableSessionStore)
    app = notes().http_app(session_store=store)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        url = f"{base}/mcp"
        sid = await open_session(http, url)
        elsewhere = await store.get(sid)  # another process sets the level, unannounced
        assert elsewhere is not None
        elsewhere.log_level = "error"
        await store.put(elsewhere)
        copy = app.sessions.get(sid)
        assert copy is not None
        copy.handle.record.last_seen -= 3600  # time for the keep-alive write
        puts = store.puts
        assert (await http.post(url, json=PING, headers=headers(sid))).is_success
        assert store.puts == puts + 1
        stored = await store.get(sid)
        assert stored is not None and stored.log_level == "error"
        assert stored.last_seen > elsewhere.last_seen
        assert copy.handle.log_level == "error"


async def test_the_record_holds_the_terms_initialize_settled_and_nothing_copies_them() -> None:
    """One place for what the handshake settled: the protocol session keeps its terms on the
    session's record (the one object a store writes), not a copy of them."""
    app = notes().http_app(session_store=MemorySessionStore())
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        sid = await open_session(http, f"{base}/mcp")
        session = app.sessions.get(sid)
        assert session is not None
        handle = session.handle
        assert handle.record.terms is not None
        assert handle.record.terms is handle.connection.session.terms
        assert handle.record.revision == "2025-11-25"


async def test_a_request_that_changes_nothing_encodes_no_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether a record must be written is a flag its changes set, not a comparison of its
    bytes: a request that changes nothing encodes nothing (and no session holds a copy of its
    record's bytes). A change is still written, once."""
    store = Counting()
    app = notes().http_app(session_store=store)
    encoded: list[object] = []

    class CountingEncoder:
        encoder = msgspec.json.Encoder()

        def encode(self, obj: object) -> bytes:
            encoded.append(obj)
            return self.encoder.encode(obj)

    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        url = f"{base}/mcp"
        sid = await open_session(http, url)
        monkeypatch.setattr(sessions_module, "_encoder", CountingEncoder())
        puts = store.puts
        assert (await http.post(url, json=PING, headers=headers(sid))).is_success
        assert encoded == [] and store.puts == puts
        level = {
            "jsonrpc": "2.0",
            "id": 8,
            "method": "logging/setLevel",
            "params": {"level": "error"},
        }
        assert (await http.post(url, json=level, headers=headers(sid))).is_success
        assert store.puts == puts + 1
        assert (await http.post(url, json=level, headers=headers(sid))).is_success
        assert store.puts == puts + 1  # the same level again: nothing changed
