"""Counted slots in a `KeyValueStore`: at most `count` live keys under a prefix, taken in one
atomic step with the store's `Limit` (every slot key has the same size, so a byte limit is a
count), so that processes sharing the store cannot pass the bound together."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from mcpkit.stores.kv import Limit, entry_size

if TYPE_CHECKING:
    from mcpkit.stores.kv import KeyValueStore

__all__ = ["release_slot", "slot_key", "take_slot"]

_NAME_CHARS = 32  # a slot's name is a digest of this many hex characters: all keys one size


def slot_key(prefix: str, name: str) -> str:
    """The key of the slot `name` under `prefix` (its size is the same for every name)."""
    return prefix + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_NAME_CHARS]


async def take_slot(kv: KeyValueStore, prefix: str, name: str, count: int, ttl: float) -> bool:
    """Hold the slot `name` under `prefix` for `ttl` seconds, when fewer than `count` others
    are held there; False (and nothing held) when all are."""
    key = slot_key(prefix, name)
    limit = Limit(prefix, count * entry_size(key, b""))
    return await kv.set(key, b"", ttl, limit=limit)


async def release_slot(kv: KeyValueStore, prefix: str, name: str) -> None:
    """Give the slot `name` under `prefix` back before its time."""
    await kv.delete(slot_key(prefix, name))
