"""The behaviour every `mcpkit.stores.kv.KeyValueStore` has: a value is kept until it is
deleted, replaced or its TTL ends; a `Limit` bounds the bytes under its prefix, and its pool
the bytes of all its prefixes together, even against writers in other processes; any text
names one key. On real time, with TTLs of a fraction of a second: a shared store keeps time
on its own clock (Redis's), which no check can move."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from mcpkit.stores.kv import KeyValueStore, Limit, entry_size

__all__ = ["KeyValueChecks"]

_SHORT = 0.2
_LONG = 60.0
_BOUND = 10.0  # seconds an expiry may take to be seen: a bound on hangs, not a measure


class KeyValueChecks:
    """Checks any `KeyValueStore` passes. Subclass it in a test module under a name pytest
    collects and define `make_kv`."""

    async def make_kv(self) -> KeyValueStore:
        """A new, empty store. Override it."""
        raise NotImplementedError("define make_kv() in your subclass of KeyValueChecks")

    async def close_kv(self, kv: KeyValueStore) -> None:
        """Release what `make_kv` took; by default nothing."""

    async def make_pooled_kvs(self, max_pool_bytes: int) -> list[KeyValueStore]:
        """Two stores over one new, empty place (one SQLite file, one Redis and prefix, as
        two processes would open them), each given `max_pool_bytes`; a store that only one
        process can reach (memory) gives itself twice. Override it."""
        raise NotImplementedError("define make_pooled_kvs() in your subclass of KeyValueChecks")

    async def close_pooled_kvs(self, kvs: list[KeyValueStore]) -> None:
        """Release what `make_pooled_kvs` took; by default `close_kv` of each store once."""
        for i, kv in enumerate(kvs):
            if all(kv is not other for other in kvs[:i]):
                await self.close_kv(kv)

    @asynccontextmanager
    async def _pooled(self, max_pool_bytes: int) -> AsyncGenerator[list[KeyValueStore], None]:
        kvs = await self.make_pooled_kvs(max_pool_bytes)
        try:
            yield kvs
        finally:
            await self.close_pooled_kvs(kvs)

    @asynccontextmanager
    async def _made(self) -> AsyncGenerator[KeyValueStore, None]:
        kv = await self.make_kv()
        try:
            yield kv
        finally:
            await self.close_kv(kv)

    async def test_a_value_is_kept_replaced_and_deleted(self) -> None:
        async with self._made() as kv:
            assert await kv.get("a") is None
            assert await kv.set("a", b"1", _LONG)
            assert await kv.set("b", b"", _LONG)
            assert await kv.get("a") == b"1"
            assert await kv.get("b") == b""
            assert await kv.set("a", b"\x00\xff two", _LONG)
            assert await kv.get("a") == b"\x00\xff two"
            await kv.delete("a")
            await kv.delete("never set")  # harmless
            assert await kv.get("a") is None
            assert await kv.get("b") == b""
            await kv.delete("b")

    async def test_a_value_ends_with_its_ttl(self) -> None:
        async with self._made() as kv:
            await kv.set("short", b"x", _SHORT)
            await kv.set("long", b"y", _LONG)
            async with asyncio.timeout(_BOUND):
                while await kv.get("short") is not None:
                    await asyncio.sleep(_SHORT / 4)
            assert await kv.get("long") == b"y"
            await kv.set("short", b"again", _LONG)  # an expired key is set anew
            assert await kv.get("short") == b"again"
            for key in ("short", "long"):
                await kv.delete(key)

    async def test_a_ttl_must_be_above_zero(self) -> None:
        async with self._made() as kv:
            for ttl in (0, -1, float("nan"), float("inf"), 1e20):
                try:
                    await kv.set("k", b"v", ttl)
                except ValueError:
                    continue
                raise AssertionError(f"ttl={ttl!r} was accepted")
            assert await kv.get("k") is None

    async def test_a_limit_bounds_the_bytes_under_its_prefix(self) -> None:
        async with self._made() as kv:
            limit = Limit("scope:", entry_size("scope:a", b"x" * 10) * 2)
            assert await kv.used("scope:") == 0
            assert await kv.set("scope:a", b"x" * 10, _LONG, limit=limit)
            assert await kv.set("scope:b", b"y" * 10, _LONG, limit=limit)
            assert await kv.used("scope:") == limit.max_bytes
            # A third is refused and nothing is written; a replacement counts once.
            assert not await kv.set("scope:c", b"z", _LONG, limit=limit)
            assert await kv.get("scope:c") is None
            assert await kv.set("scope:a", b"w" * 10, _LONG, limit=limit)
            assert not await kv.set("scope:a", b"w" * 11, _LONG, limit=limit)
            assert await kv.get("scope:a") == b"w" * 10
            # Another prefix has a limit of its own; a deleted entry frees its bytes.
            other = Limit("other:", entry_size("other:a", b"x" * 10))
            assert await kv.set("other:a", b"x" * 10, _LONG, limit=other)
            await kv.delete("scope:b")
            assert await kv.used("scope:") == entry_size("scope:a", b"w" * 10)
            assert await kv.set("scope:c", b"z", _LONG, limit=limit)
            for key in ("scope:a", "scope:c", "other:a"):
                await kv.delete(key)
            assert await kv.used("scope:") == 0

    async def test_an_expired_entry_frees_its_bytes(self) -> None:
        async with self._made() as kv:
            limit = Limit("p:", entry_size("p:a", b"x" * 10))
            assert await kv.set("p:a", b"x" * 10, _SHORT, limit=limit)
            async with asyncio.timeout(_BOUND):
                while not await kv.set("p:b", b"y" * 10, _LONG, limit=limit):
                    await asyncio.sleep(_SHORT / 4)
            assert await kv.get("p:b") == b"y" * 10
            await kv.delete("p:b")

    async def test_any_text_names_one_key(self) -> None:
        async with self._made() as kv:
            odd = ["a:b", "*", "a*", "\u00e9t\u00e9", "x" * 300, "x" * 301, "", "kv:a"]
            for i, key in enumerate(odd):
                await kv.set(key, str(i).encode(), _LONG)
            assert [await kv.get(key) for key in odd] == [str(i).encode() for i in range(8)]
            for key in odd:
                await kv.delete(key)

    async def test_a_full_pool_drops_the_caller_written_longest_ago_whole(self) -> None:
        one = entry_size("st:a:1", b"x" * 200)
        most = 4 * one + one // 2  # four such entries fit, not five
        async with self._pooled(most) as (kv, _):
            for caller in ("a", "b"):
                for name in ("1", "2"):
                    key = f"st:{caller}:{name}"
                    assert await kv.set(key, b"x" * 200, _LONG, limit=_in_pool(caller))
            # "c" needs room: "a", written the longest ago, goes whole; "b" keeps all it has.
            assert await kv.set("st:c:1", b"x" * 200, _LONG, limit=_in_pool("c"))
            assert await kv.used("st:a:") == 0
            assert [await kv.get(f"st:a:{name}") for name in ("1", "2")] == [None, None]
            assert await kv.used("st:b:") == 2 * entry_size("st:b:1", b"x" * 200)
            # "b" writes again: now "c" is the longest ago, and goes when "d" needs room.
            assert await kv.set("st:b:1", b"y" * 200, _LONG, limit=_in_pool("b"))
            for name in ("1", "2"):
                assert await kv.set(f"st:d:{name}", b"x" * 200, _LONG, limit=_in_pool("d"))
            assert await kv.get("st:c:1") is None
            assert await kv.get("st:b:1") == b"y" * 200
            assert sum([await kv.used(f"st:{caller}:") for caller in "abcd"]) <= most
            for key in ("st:b:1", "st:b:2", "st:d:1", "st:d:2"):
                await kv.delete(key)

    async def test_a_writer_that_fills_the_pool_alone_is_the_one_refused(self) -> None:
        # Room for "b" and one of "a", not for two of "a" whoever else is dropped.
        most = entry_size("st:b:1", b"x" * 300) + entry_size("st:a:1", b"x" * 600)
        async with self._pooled(most) as (kv, _):
            assert await kv.set("st:b:1", b"x" * 300, _LONG, limit=_in_pool("b"))
            assert await kv.set("st:a:1", b"x" * 600, _LONG, limit=_in_pool("a"))
            assert not await kv.set("st:a:2", b"x" * 600, _LONG, limit=_in_pool("a"))
            assert await kv.get("st:b:1") == b"x" * 300  # nobody else paid for it
            assert await kv.get("st:a:2") is None
            assert await kv.get("st:a:1") == b"x" * 600
            for key in ("st:a:1", "st:b:1"):
                await kv.delete(key)

    async def test_a_caller_whose_state_ended_pushes_nobody_out(self) -> None:
        # What ended is no longer in the pool: room for a newcomer, and the caller written
        # the longest ago (but still alive) keeps its state.
        most = entry_size("st:old:1", b"x" * 300) + entry_size("st:gone:1", b"x" * 500)
        async with self._pooled(most) as (kv, _):
            assert await kv.set("st:old:1", b"x" * 300, _LONG, limit=_in_pool("old"))
            assert await kv.set("st:gone:1", b"x" * 500, _SHORT, limit=_in_pool("gone"))
            async with asyncio.timeout(_BOUND):
                while await kv.get("st:gone:1") is not None:
                    await asyncio.sleep(_SHORT / 4)
            assert await kv.set("st:new:1", b"x" * 400, _LONG, limit=_in_pool("new"))
            assert await kv.get("st:old:1") == b"x" * 300
            for key in ("st:old:1", "st:new:1"):
                await kv.delete(key)

    async def test_a_deleted_entry_leaves_the_pool_at_once(self) -> None:
        # What a caller deletes is no longer in the pool, though that caller writes nothing
        # after: a newcomer fits beside the caller written the longest ago, who keeps all.
        sizes = [("st:old:1", 300), ("st:gone:1", 400), ("st:gone:2", 200)]
        async with self._pooled(sum(entry_size(k, b"x" * n) for k, n in sizes)) as (kv, other):
            assert await kv.set("st:old:1", b"x" * 300, _LONG, limit=_in_pool("old"))
            assert await kv.set("st:gone:1", b"x" * 400, _LONG, limit=_in_pool("gone"))
            assert await kv.set("st:gone:2", b"x" * 200, _LONG, limit=_in_pool("gone"))
            await other.delete("st:gone:1")
            await other.delete("st:gone:2")
            assert await other.set("st:new:1", b"x" * 500, _LONG, limit=_in_pool("new"))
            assert await kv.get("st:old:1") == b"x" * 300
            # and once more, the deleting caller now the one written the longest ago but one
            assert await kv.set("st:gone:3", b"x" * 100, _LONG, limit=_in_pool("gone"))
            await kv.delete("st:gone:3")
            assert await kv.set("st:new:2", b"x" * 100, _LONG, limit=_in_pool("new"))
            assert await kv.get("st:old:1") == b"x" * 300
            for key in ("st:old:1", "st:new:1", "st:new:2"):
                await kv.delete(key)

    async def test_an_ended_entry_leaves_the_pool_though_its_caller_lives(self) -> None:
        # One entry of a caller ends, its others live on: its bytes are out of the pool, so
        # a newcomer fits without pushing out the caller written the longest ago.
        sizes = [("st:old:1", 300), ("st:half:1", 400), ("st:half:2", 100)]
        async with self._pooled(sum(entry_size(k, b"x" * n) for k, n in sizes)) as (kv, other):
            assert await kv.set("st:old:1", b"x" * 300, _LONG, limit=_in_pool("old"))
            assert await kv.set("st:half:1", b"x" * 400, _SHORT, limit=_in_pool("half"))
            assert await kv.set("st:half:2", b"x" * 100, _LONG, limit=_in_pool("half"))
            async with asyncio.timeout(_BOUND):
                while await kv.get("st:half:1") is not None:
                    await asyncio.sleep(_SHORT / 4)
            assert await other.set("st:new:1", b"x" * 400, _LONG, limit=_in_pool("new"))
            assert await kv.get("st:old:1") == b"x" * 300
            assert await kv.get("st:half:2") == b"x" * 100
            for key in ("st:old:1", "st:half:2", "st:new:1"):
                await kv.delete(key)

    async def test_an_empty_entry_in_a_pool_is_kept_and_deleted(self) -> None:
        # The smallest entry there is (an empty key and value under an empty prefix) counts
        # its overhead alone, and fills a pool of that size.
        least = entry_size("", b"")
        async with self._pooled(least) as (kv, _):
            limit = Limit("", least, pool="empty")
            assert await kv.set("", b"", _LONG, limit=limit)
            assert await kv.get("") == b""
            assert await kv.used("") == least
            await kv.delete("")
            assert await kv.get("") is None
            assert await kv.set("", b"", _LONG, limit=limit)
            await kv.delete("")

    async def test_long_prefixes_and_keys_in_a_pool_are_dropped_whole(self) -> None:
        # Prefixes and keys of any length (a store may name long ones by a digest).
        long = {caller: caller * 250 + ":" for caller in "abc"}
        held = sum(entry_size(long["a"] + name, b"x" * 200) for name in ("1", "2" * 300))
        most = 2 * held + entry_size(long["c"] + "1", b"x" * 700) // 2  # "a" and "b", not "c"
        async with self._pooled(most) as (kv, other):
            for caller in "ab":
                for name in ("1", "2" * 300):
                    limit = Limit(long[caller], 10_000, pool="long")
                    assert await kv.set(long[caller] + name, b"x" * 200, _LONG, limit=limit)
            assert await kv.get(long["a"] + "1") == b"x" * 200  # (both fit)
            limit = Limit(long["c"], 10_000, pool="long")
            assert await other.set(long["c"] + "1", b"x" * 700, _LONG, limit=limit)
            assert [await kv.get(long["a"] + name) for name in ("1", "2" * 300)] == [None, None]
            assert await kv.used(long["a"]) == 0
            assert await kv.get(long["b"] + "2" * 300) == b"x" * 200
            for key in (long["b"] + "1", long["b"] + "2" * 300, long["c"] + "1"):
                await kv.delete(key)
            assert await kv.used(long["b"]) == 0

    async def test_writers_sharing_a_store_never_pass_its_pool(self) -> None:
        # Two stores over one place (two processes' worth), many fresh callers at once: the
        # pool holds at most its bytes after every round, and the latest writers keep theirs.
        callers = [f"{i:03}" for i in range(24)]
        most = 6 * entry_size("st:000:1", b"x" * 150)  # three callers' two entries of 24
        async with self._pooled(most) as kvs:

            async def write(i: int, caller: str, name: str) -> bool:
                key = f"st:{caller}:{name}"
                return await kvs[i % 2].set(key, b"x" * 150, _LONG, limit=_in_pool(caller))

            for name in ("1", "2"):
                async with asyncio.timeout(_BOUND):
                    written = await asyncio.gather(
                        *(write(i, caller, name) for i, caller in enumerate(callers))
                    )
                assert all(written)  # nobody fills the pool alone: nobody is refused
                held = [await kvs[0].used(f"st:{caller}:") for caller in callers]
                assert 0 < sum(held) <= most
                assert held == [await kvs[1].used(f"st:{caller}:") for caller in callers]
            for caller in callers:
                for name in ("1", "2"):
                    await kvs[0].delete(f"st:{caller}:{name}")


def _in_pool(caller: str) -> Limit:
    return Limit(f"st:{caller}:", 10_000, pool="state")
