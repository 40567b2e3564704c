"""State a handler keeps (mcpkit.server.state): `server.kv`, and a caller's own state through
`ctx.get_state()` / `set_state()` / `delete_state()` in both eras: a 2025-11-25 session's,
a 2026-07-28 caller's by its token's owner or by the key it sends, refused with a clear
error when there is neither; values JSON, bounded, for a time."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.state.caller import MAX_STATE_BYTES, MAX_STATE_VALUE_BYTES, STATE_KEY_META
from mcpkit.server.state.server_kv import MAX_KV_VALUE_BYTES
from mcpkit.stores.kv import MemoryKeyValueStore
from mcpkit.stores.url import open_store

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0  # seconds: a bound on hangs, not a measurement


def counter(name: str = "counter", **options: Any) -> Server:
    server = Server(name, **options)

    @server.tool()
    async def bump(ctx: Context, by: int = 1) -> int:
        """Add `by` to the caller's count."""
        count: int = await ctx.get_state("count", 0) + by
        await ctx.set_state("count", count)
        return count

    @server.tool()
    async def forget(ctx: Context) -> None:
        await ctx.delete_state("count")

    @server.tool()
    async def keep(ctx: Context, what: str, size: int = 0, ttl: float | None = None) -> str:
        """Keep a value of the kind `what` names; say what happened."""
        value: Any = {"set": {1, 2}, "bytes": "x" * size, "obj": object()}.get(what, what)
        try:
            await ctx.set_state(f"k-{what}-{size}", value, ttl=ttl)
        except (TypeError, ValueError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return "kept"

    return server


def text(result: Any) -> str:
    return str(result.content[0].text)


def key_meta() -> dict[str, Any]:
    return {STATE_KEY_META: secrets.token_urlsafe(32)}


async def test_a_2025_session_keeps_its_own_state() -> None:
    server = counter()
    async with asyncio.timeout(WAIT):
        async with (
            Client(server, protocol="2025-11-25") as one,
            Client(server, protocol="2025-11-25") as two,
        ):
            assert text(await one.call_tool("bump")) == "1"
            assert text(await one.call_tool("bump", {"by": 2})) == "3"
            assert text(await two.call_tool("bump")) == "1"  # another session: its own
            await one.call_tool("forget")
            assert text(await one.call_tool("bump")) == "1"
            assert text(await two.call_tool("bump")) == "2"


async def test_a_2026_caller_without_token_or_key_is_told_how_to_give_one() -> None:
    async with asyncio.timeout(WAIT), Client(counter(), protocol="2026-07-28") as client:
        with pytest.raises(McpError) as refused:
            await client.call_tool("bump")
        assert refused.value.code == codes.INVALID_PARAMS
        assert STATE_KEY_META in refused.value.message
        assert "access token" in refused.value.message
        with pytest.raises(McpError) as short:
            await client.call_tool("bump", meta={STATE_KEY_META: "guessable"})
        assert "32 to 256 characters" in short.value.message


async def test_a_2026_caller_key_names_one_state_whoever_sends_it() -> None:
    server = counter()
    mine, theirs = key_meta(), key_meta()
    async with asyncio.timeout(WAIT):
        async with (
            Client(server, protocol="2026-07-28") as one,
            Client(server, protocol="2026-07-28") as two,
        ):
            assert text(await one.call_tool("bump", meta=mine)) == "1"
            assert text(await two.call_tool("bump", meta=mine)) == "2"  # same key: same state
            assert text(await two.call_tool("bump", meta=theirs)) == "1"
            await one.call_tool("forget", meta=mine)
            assert text(await two.call_tool("bump", meta=mine)) == "1"


@pytest.mark.parametrize("era", ERAS)
async def test_values_are_json_and_bounded(era: str) -> None:
    meta = key_meta()
    async with asyncio.timeout(WAIT), Client(counter(), protocol=era) as client:

        async def keep(what: str, size: int = 0, ttl: float | None = None) -> str:
            args: dict[str, Any] = {"what": what, "size": size}
            if ttl is not None:
                args["ttl"] = ttl
            return text(await client.call_tool("keep", args, meta=meta))

        assert await keep("plain") == "kept"
        assert (await keep("obj")).startswith("TypeError: ctx.set_state() keeps JSON values")
        assert (await keep("bytes", MAX_STATE_VALUE_BYTES)).startswith(
            "ValueError: ctx.set_state(): the value is"
        )
        assert (await keep("bytes", 10, ttl=0)).startswith("ValueError: a TTL must be")
        # Values under the cap each, until the caller's state is full.
        size = MAX_STATE_VALUE_BYTES - 100
        said = [await keep("bytes", size - i) for i in range(MAX_STATE_BYTES // size + 1)]
        assert said[0] == "kept"
        assert said[-1].startswith("ValueError: ctx.set_state(): this caller's state would pass")


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_servers_handlers_share_the_callers_state(era: str) -> None:
    parent, child = counter("parent"), counter("child")
    parent.mount(child, "child")
    meta = key_meta()
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        assert text(await client.call_tool("bump", meta=meta)) == "1"
        assert text(await client.call_tool("child_bump", meta=meta)) == "2"


async def test_server_kv_is_the_servers_own_and_shared_by_its_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    stores = [open_store(url), open_store(url)]  # two processes' views of one file
    try:
        notes, again, other = Server("notes"), Server("notes"), Server("other")
        notes.use_store(stores[0])
        again.use_store(stores[1])
        other.use_store(stores[1])
        await notes.kv.set("greeting", {"text": "hi"})
        assert await again.kv.get("greeting") == {"text": "hi"}
        assert await other.kv.get("greeting") is None  # another server's keys are apart
        assert await other.kv.get("greeting", "none") == "none"
        await other.kv.set("greeting", [1])
        assert await notes.kv.get("greeting") == {"text": "hi"}
        await again.kv.delete("greeting")
        assert await notes.kv.get("greeting") is None
        with pytest.raises(TypeError, match=r"server\.kv keeps JSON values"):
            await notes.kv.set("bad", object())
        with pytest.raises(ValueError, match="over the"):
            await notes.kv.set("big", "x" * MAX_KV_VALUE_BYTES)
        with pytest.raises(ValueError, match="a TTL must be"):
            await notes.kv.set("k", 1, ttl=-1)
        with pytest.raises(TypeError, match="a key is a string"):
            await notes.kv.get("")
        # A lone surrogate: the memory and Redis stores would keep it, SQLite fail on it.
        with pytest.raises(TypeError, match="lone surrogate"):
            await notes.kv.set("caf\udce9", 1)
        await notes.kv.set("caf\u00e9", 1)
        assert await again.kv.get("caf\u00e9") == 1
    finally:
        for s in stores:
            await s.aclose()


async def test_a_server_kv_value_ends_with_its_ttl() -> None:
    server = Server("short")
    await server.kv.set("k", 1, ttl=0.05)
    await server.kv.set("long", 2)
    async with asyncio.timeout(WAIT):
        while await server.kv.get("k") is not None:
            await asyncio.sleep(0.02)
    assert await server.kv.get("long") == 2


def test_a_sessions_state_under_auth_is_also_its_owners() -> None:
    """A 2025 session's state is named by its id and its owner: were another identity to
    present the id (the HTTP app refuses that already), it would reach another state."""
    from types import SimpleNamespace

    from mcpkit.server.session import ServerSessionHandle
    from mcpkit.server.state.caller import caller_scope
    from mcpkit.stores.sessions import SessionRecord

    # A handle with no server and no connection: all the scope reads is its record.
    nothing: Any = SimpleNamespace(session=None)
    session = ServerSessionHandle(nothing, lambda _: nothing, SessionRecord(id="s1"))

    def scope(subject: str | None) -> list[str | None]:
        token = None if subject is None else AccessToken(subject=subject)
        request: Any = SimpleNamespace(session=session, terms=None, auth=token, meta=None)
        return caller_scope(request)

    assert scope(None) == ["session", "s1", None]
    assert scope("alice") != scope("bob")
    assert scope("alice")[:2] == ["session", "s1"]


async def test_callers_state_is_written_in_its_own_pool() -> None:
    """Fresh 2026 state keys filling the memory store push out only the state written the
    longest ago, never what else the store keeps (approvals, overflows)."""
    server = counter()
    kv = MemoryKeyValueStore(max_bytes=10_000, max_pool_bytes=2_000)
    server.use_store(dataclasses.replace(open_store("memory://"), kv=kv))
    await kv.set("approval:other-user", b"pending", 600)
    async with asyncio.timeout(WAIT), Client(server, protocol="2026-07-28") as client:
        for _ in range(40):
            said = await client.call_tool("keep", {"what": "bytes", "size": 200}, meta=key_meta())
            assert text(said) == "kept"
    assert await kv.get("approval:other-user") == b"pending"
    assert await kv.used("state:") <= 2_000


async def test_fresh_state_keys_cannot_grow_a_sqlite_store_past_its_pool(tmp_path: Path) -> None:
    """An anonymous 2026 client minting state keys fills a SQLite store up to its pool
    (`?max_pool_bytes=`) and no further, the state written the longest ago going first; the
    one writer whose state alone fills it is refused with the setting named."""
    path = tmp_path / "state.db"
    stores = open_store(f"sqlite:///{path}?max_pool_bytes=2000")
    server = counter()
    server.use_store(stores)
    try:
        async with asyncio.timeout(WAIT), Client(server, protocol="2026-07-28") as client:
            for _ in range(40):
                args = {"what": "bytes", "size": 200}
                assert text(await client.call_tool("keep", args, meta=key_meta())) == "kept"
            args = {"what": "bytes", "size": 2_000}
            said = text(await client.call_tool("keep", args, meta=key_meta()))
            assert said.startswith("ValueError: ctx.set_state()") and "max_pool_bytes" in said
    finally:
        await stores.aclose()
    with sqlite3.connect(path) as c:
        held = c.execute(
            "SELECT SUM(size) FROM mcpkit_kv WHERE key >= 'state:' AND key < 'state;'"
        ).fetchone()[0]
    assert 1_000 < held <= 2_000
