"""`server.kv`: JSON values by key for a server's handlers, in its store
(`server.store.kv`), so that every process sharing the store sees the same values
(docs/server.md, "State")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import msgspec

from mcpkit.stores.kv import check_ttl

if TYPE_CHECKING:
    from mcpkit.server.catalog.callers import Served
    from mcpkit.stores.kv import KeyValueStore

__all__ = [
    "DEFAULT_KV_TTL",
    "MAX_KEY_CHARS",
    "MAX_KV_VALUE_BYTES",
    "KeyValue",
    "encoded",
    "valid_key",
    "valid_ttl",
]

#: Seconds a `server.kv` value is kept when `set` names no `ttl` (a day). Every value
#: expires: a store shared by many servers must not fill up with keys nobody deletes.
DEFAULT_KV_TTL: Final = 86_400.0
#: Bytes of one `server.kv` value's JSON (1 MiB): a bound a tool fed by a client cannot
#: push past, whatever the store would accept.
MAX_KV_VALUE_BYTES: Final = 1024 * 1024
#: Characters of a key, of `server.kv` or of a caller's state.
MAX_KEY_CHARS: Final = 1024

#: One encoder for every value: the same bytes for the same value, in every store.
_encoder: Final = msgspec.json.Encoder()


def encoded(where: str, value: object, max_bytes: int) -> bytes:
    """`value` as JSON; TypeError for what has none, ValueError past `max_bytes`."""
    try:
        data = _encoder.encode(value)
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(
            f"{where} keeps JSON values; {type(value).__name__} is not one ({exc})"
        ) from None
    if len(data) > max_bytes:
        raise ValueError(
            f"{where}: the value is {len(data)} bytes of JSON, over the {max_bytes} a value "
            "may take"
        )
    return data


def valid_key(where: str, key: object) -> str:
    """`key` when it is a string of 1 to `MAX_KEY_CHARS` characters UTF-8 can hold (no lone
    surrogate, which one store would keep and another fail on); TypeError otherwise."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS:
        raise TypeError(f"{where}: a key is a string of 1 to {MAX_KEY_CHARS} characters")
    if not key.isascii():  # (the usual key is encoded by nobody here)
        try:
            key.encode()
        except UnicodeEncodeError:
            raise TypeError(
                f"{where}: a key is text UTF-8 can hold; {key!r} has a lone surrogate"
            ) from None
    return key


def valid_ttl(ttl: float | None, default: float) -> float:
    """`ttl` in seconds (`default` for None); ValueError for one not above 0."""
    return default if ttl is None else check_ttl(ttl)


class KeyValue:
    """`server.kv`: JSON values by key for this server's handlers, kept in its store
    (`server.store.kv`) for a TTL, under keys of this server's name, so that two servers
    sharing a Redis never read each other's (and the workers of one server share them)."""

    __slots__ = ("_server",)

    def __init__(self, server: Served) -> None:
        self._server = server

    def _key(self, key: str) -> str:
        """The store's key for `key`: the server's name JSON-encoded, so that a name holding
        a `:` cannot be read as another server's name followed by part of a key."""
        return f"kv:{_encoder.encode(self._server.name).decode()}:{valid_key('kv', key)}"

    @property
    def _store(self) -> KeyValueStore:
        return self._server.store.kv  # read at each call: `use_store` may replace it

    async def get(self, key: str, default: Any = None) -> Any:
        """The value of `key`, or `default` when none is kept (never set, deleted, expired)."""
        data = await self._store.get(self._key(key))
        # Decoded as plain JSON: what was set may come back as a dict or list where a
        # struct or tuple went in, as with any JSON store.
        return default if data is None else msgspec.json.decode(data)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Keep `value` (JSON, at most `MAX_KV_VALUE_BYTES`) for `ttl` seconds (default a
        day); TypeError for a value JSON cannot hold, ValueError for one too large."""
        data = encoded("server.kv", value, MAX_KV_VALUE_BYTES)
        await self._store.set(self._key(key), data, valid_ttl(ttl, DEFAULT_KV_TTL))

    async def delete(self, key: str) -> None:
        """Forget `key` (nothing happens when none is kept)."""
        await self._store.delete(self._key(key))
