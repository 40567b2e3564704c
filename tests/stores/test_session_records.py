"""SessionRecord is plain data that encodes to bytes and back; Server.restore rebuilds a session
from a record and refuses one it cannot. (What every session store does, MemorySessionStore
included, is checked in test_store_checks.py.)"""

from __future__ import annotations

import msgspec
import pytest

from mcpkit import Server
from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.terms import Terms
from mcpkit.stores.sessions import (
    MemorySessionStore,
    SessionRecord,
    SessionStore,
    decode_record,
    encode_record,
    new_session_id,
    owner_key,
)
from mcpkit.transports.memory import memory_channel_pair
from mcpkit.types import ClientCapabilities, Implementation


def full_record() -> SessionRecord:
    return SessionRecord(
        id=new_session_id(),
        terms=Terms(
            "2025-06-18",
            msgspec.convert({"roots": {"listChanged": True}}, ClientCapabilities),
            Implementation(name="c", version="2"),
        ),
        initialized=True,
        owner=owner_key(("sub", "https://issuer.example", "alice")),
        log_level="error",
        subscriptions=frozenset({"notes://a", "notes://b"}),
        created=1_700_000_000.5,
        last_seen=1_700_000_100.25,
    )


def test_a_record_round_trips_through_bytes() -> None:
    record = full_record()
    data = encode_record(record)
    assert isinstance(data, bytes)
    assert decode_record(data) == record
    # A new record writes only what it has: its id and when it was created.
    assert set(msgspec.json.decode(encode_record(SessionRecord(id="x")))) == {"id", "created"}


#: A record as 98ee7e1 (the release before records held `terms`) wrote it.
EARLIER_LAYOUT = (
    b'{"id":"s1","revision":"2025-06-18","client_info":{"name":"c","version":"2"},'
    b'"client_capabilities":{"roots":{"listChanged":true}},"initialized":true,'
    b'"log_level":"error","subscriptions":["notes://a"],"created":1700000000.5}'
)


def test_a_record_an_earlier_release_wrote_is_read_with_its_terms() -> None:
    """Processes of two releases share a store during a rolling restart: each reads the
    other's records, so an upgrade loses no session."""
    record = decode_record(EARLIER_LAYOUT)
    assert record.terms is not None
    assert record.revision == "2025-06-18"
    assert record.client_info == Implementation(name="c", version="2")
    assert record.client_capabilities is not None
    assert record.client_capabilities.roots is not None
    assert record.initialized and record.log_level == "error"
    assert msgspec.json.decode(encode_record(record)) == msgspec.json.decode(EARLIER_LAYOUT)


def test_bytes_that_are_not_a_record_are_refused() -> None:
    for bad in (b"{}", b'{"id": 3}', b'{"id": "x", "subscriptions": "notes://a"}'):
        with pytest.raises(msgspec.ValidationError):
            decode_record(bad)


def test_owner_keys_are_stable_strings() -> None:
    identity = ("sub", "https://issuer.example", "alice")
    assert owner_key(identity) == owner_key(tuple(identity))
    assert owner_key(identity) != owner_key(("sub", "https://issuer.example", "bob"))
    assert owner_key(None) is None
    assert owner_key("already-a-key") == "already-a-key"


def test_session_ids_are_long_visible_ascii_and_fresh() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 43 and all(0x21 <= ord(c) <= 0x7E for c in i) for i in ids)


async def test_the_memory_store_is_a_session_store_that_counts_its_records() -> None:
    # What every store does is tests/stores/test_store_checks.py's; this is memory's own.
    store = MemorySessionStore()
    assert isinstance(store, SessionStore)
    await store.put(full_record())
    await store.put(SessionRecord(id="old", created=10.0))
    assert len(store) == 2
    assert await store.expire(before=100.0) == ["old"] and len(store) == 1


async def test_restore_rebuilds_what_the_record_says() -> None:
    server = Server("s")
    _, channel = memory_channel_pair()
    record = full_record()
    handle = server.restore(record, channel)
    assert handle.record is record and handle.id == record.id
    assert handle.protocol_version == "2025-06-18" and handle.operating
    assert handle.protocol.phase == "operating"
    assert handle.client_capabilities.roots is not None
    assert handle.log_level == "error" and handle.subscriptions == {"notes://a", "notes://b"}
    waiting = SessionRecord(
        id="w", terms=Terms("2025-11-25", ClientCapabilities()), initialized=False
    )
    assert server.restore(waiting, memory_channel_pair()[1]).protocol.phase == "initializing"


async def test_restore_refuses_a_record_it_cannot_serve() -> None:
    server = Server("s")
    with pytest.raises(LocalProtocolError, match="never finished initialize"):
        server.restore(SessionRecord(id="new"), memory_channel_pair()[1])
    with pytest.raises(LocalProtocolError, match="revision '1999-01-01'"):
        server.restore(
            SessionRecord(id="old", terms=Terms("1999-01-01", ClientCapabilities())),
            memory_channel_pair()[1],
        )
    handle = server.restore(
        SessionRecord(id="ok", terms=Terms("2025-11-25", ClientCapabilities())),
        memory_channel_pair()[1],
    )
    with pytest.raises(LocalProtocolError, match="only a new session"):
        handle.protocol.resume("2025-11-25", None, None)
