"""`RedisLiveness`: the leases of the processes sharing a Redis, as keys that expire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.asyncio import Redis

from mcpkit.stores.liveness import Liveness
from mcpkit.stores.redis._keys import check_client, id_key, milliseconds

__all__ = ["RedisLiveness"]


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
