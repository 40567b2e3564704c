"""The behaviour every `mcpkit.stores.kv.KeyValueStore` has: a value is kept until it is
deleted, replaced or its TTL ends; a `Limit` bounds the bytes under its prefix; any text
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
            assert await kv.set("other:a", b"x" * 10, _LONG, limit=Limit("other:", 100))
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
