"""`RedisKeyValueStore`: `mcpkit.stores.kv.KeyValueStore` in Redis, shared by every process
of a deployment: a key per entry with Redis's own TTL (`{kv}:<key>`), and what a `Limit` and
a pool count beside it, read and written in one script per write or delete (`_kv_scripts`),
so that two processes writing at once cannot pass a limit or a pool together, and an entry
deleted or ended leaves the count at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, cast

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.stores.kv import (
    DEFAULT_MAX_POOL_BYTES,
    KeyValueStore,
    Limit,
    check_pool_bytes,
    check_ttl,
    entry_size,
)
from mcpkit.stores.redis._keys import check_client, id_key, milliseconds, reply_bytes
from mcpkit.stores.redis._kv_scripts import DELETE, SET, SET_PLAIN, USED

__all__ = ["RedisKeyValueStore"]

# Runs of a script a write or delete makes at most: each answer that asks for another names
# keys that changed meanwhile (another process wrote them), so a few always do.
_MOST_RUNS: Final = 32
# The hash tag of every key of the store: one slot for all, as the scripts' keys must share.
_TAG: Final = "{kv}"


class RedisKeyValueStore:
    """`KeyValueStore` in Redis. A key from a peer names one entry and no other key
    (`_keys.id_key`). The caller owns `client`. Every process sharing the Redis should give
    the same `max_pool_bytes` (each keeps a pool within its own)."""

    __slots__ = ("_client", "_delete", "_max_pool_bytes", "_prefix", "_set", "_set_plain", "_used")

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "mcpkit:",
        max_pool_bytes: int = DEFAULT_MAX_POOL_BYTES,
    ) -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()
        self._max_pool_bytes = check_pool_bytes(max_pool_bytes)
        self._set = client.register_script(SET)
        self._set_plain = client.register_script(SET_PLAIN)
        self._delete = client.register_script(DELETE)
        self._used = client.register_script(USED)

    def _name(self, kind: str, ident: str) -> bytes:
        return id_key(self._prefix, _TAG + kind, ident)

    def _alike(self, kind: str, key: bytes, like: str) -> bytes:
        """The key of `kind` for the same id as `key`, a key of kind `like`."""
        return self._prefix + (_TAG + kind).encode() + key[len(self._prefix) + len(_TAG + like) :]

    def _limit_keys(self, prefix: str, pool: str | None) -> list[bytes]:
        """The keys of a `Limit`: its prefix's sizes and ends, and its pool's when it has one."""
        keys = [self._name("size", prefix), self._name("until", prefix)]
        if pool is not None:
            keys += [self._name(kind, pool) for kind in ("pool", "order", "pooled", "ends")]
        return keys

    async def get(self, key: str) -> bytes | None:
        found = await self._client.get(self._name("", key))
        return None if found is None else reply_bytes(found)

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        ms = milliseconds(check_ttl(ttl))
        entry, owner = self._name("", key), self._name("of", key)
        for _ in range(_MOST_RUNS):
            if limit is None:
                written = await self._set_plain(keys=[entry, owner], args=[value, ms])
            else:
                written = await self._set_limited(key, value, ms, limit)
            if written != -1:
                return bool(written)
            await self.delete(key)  # (written with another Limit: its bytes leave that count)
        raise _changing(key)

    async def _set_limited(self, key: str, value: bytes, ms: int, limit: Limit) -> int:
        """One write under `limit`, run again while it names prefixes to drop first."""
        keys = [self._name("", key), self._name("of", key)]
        keys += self._limit_keys(limit.prefix, limit.pool)
        args: list[bytes | int] = [value, ms, entry_size(key, value)]
        args += [limit.max_bytes, _limit_json(limit)]
        if limit.pool is not None:
            args.append(self._max_pool_bytes)
        drops: dict[bytes, list[bytes]] = {}
        for _ in range(_MOST_RUNS):
            dropping = [k for sizes, held in drops.items() for k in self._drop_keys(sizes, held)]
            counts = [len(held) for held in drops.values()]
            answer: object = await self._set(keys=[*keys, *dropping], args=[*args, *counts])
            if isinstance(answer, int):
                return answer
            victim = reply_bytes(cast("list[object]", answer)[1])
            found: Sequence[object] = await self._client.hkeys(victim)
            drops[victim] = [reply_bytes(entry) for entry in found]
        raise _changing(limit.prefix)

    def _drop_keys(self, sizes: bytes, held: list[bytes]) -> list[bytes]:
        """What a script is given to drop a prefix: its sizes and ends, its entries and theirs
        Limits."""
        keys = [sizes, self._alike("until", sizes, "size")]
        for entry in held:
            keys += [entry, self._alike("of", entry, "")]
        return keys

    async def delete(self, key: str) -> None:
        entry, owner = self._name("", key), self._name("of", key)
        for _ in range(_MOST_RUNS):
            found = await self._client.get(owner)
            keys = [entry, owner]
            if found is not None:
                prefix, pool = msgspec.json.decode(reply_bytes(found), type=tuple[str, str | None])
                keys += self._limit_keys(prefix, pool)
            if await self._delete(keys=keys, args=[found or b""]) == 1:
                return
        raise _changing(key)

    async def used(self, prefix: str) -> int:
        keys = [self._name("size", prefix), self._name("until", prefix)]
        return int(await self._used(keys=keys))


def _limit_json(limit: Limit) -> bytes:
    return msgspec.json.encode([limit.prefix, limit.pool])


def _changing(key: str) -> RuntimeError:
    return RuntimeError(
        f"the Redis entries around {key!r} kept changing under {_MOST_RUNS} tries in a row"
    )


if TYPE_CHECKING:
    _implements: type[KeyValueStore] = RedisKeyValueStore
