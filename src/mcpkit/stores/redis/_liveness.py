"""`RedisLiveness`: the leases of the processes sharing a Redis, as keys that expire;
`RedisSecrets`, what they agree on; and `RedisReplayCache`, the values they accept once."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.stores.liveness import SECRET_BYTES, Liveness, SharedSecrets
from mcpkit.stores.redis._keys import check_client, id_key, milliseconds, reply_bytes
from mcpkit.stores.replay import ReplayCache

__all__ = ["RedisLiveness", "RedisReplayCache", "RedisSecrets"]


class RedisLiveness:
    """`Liveness` in Redis: a key per process (`process:<tag>`) that lives as long as its
    lease, on Redis's clock, so that the hosts' clocks need not agree. The caller owns
    `client`."""

    __slots__ = ("_client", "_prefix")

    def __init__(self, client: Redis, *, prefix: str = "mcpkit:") -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()

    async def beat(self, process: str, lease: float) -> None:
        await self._client.set(
            id_key(self._prefix, "process", process), b"", px=milliseconds(lease)
        )

    async def alive(self, process: str) -> bool:
        return bool(await self._client.exists(id_key(self._prefix, "process", process)))

    async def end(self, process: str) -> None:
        await self._client.delete(id_key(self._prefix, "process", process))


if TYPE_CHECKING:  # mypy and pyright prove the leases implement the interface
    _implements: type[Liveness] = RedisLiveness


class RedisSecrets:
    """`SharedSecrets` in Redis: a key per secret (`secret:<name>`), set by the first process
    that asks (SET NX GET, one round trip), with no TTL: it is the deployment's constant, 32
    bytes per secret, and the one kind of key that stays once every process has stopped."""

    __slots__ = ("_client", "_prefix")

    def __init__(self, client: Redis, *, prefix: str = "mcpkit:") -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()

    async def secret(self, name: str) -> bytes:
        drawn = secrets.token_bytes(SECRET_BYTES)
        key = id_key(self._prefix, "secret", name)
        kept = await self._client.set(key, drawn, nx=True, get=True)
        return drawn if kept is None else reply_bytes(kept)


class RedisReplayCache:
    """`ReplayCache` in Redis: a key per value seen (`once:<key>`), set if absent with its
    lifetime as TTL (SET NX PX, one atomic round trip on Redis's clock)."""

    __slots__ = ("_client", "_prefix")

    def __init__(self, client: Redis, *, prefix: str = "mcpkit:") -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()

    async def first_use(self, key: str, ttl: float) -> bool:
        added = await self._client.set(
            id_key(self._prefix, "once", key), b"", nx=True, px=milliseconds(ttl)
        )
        return bool(added)


if TYPE_CHECKING:
    _agrees: type[SharedSecrets] = RedisSecrets
    _once: type[ReplayCache] = RedisReplayCache
