"""How the Redis stores name their keys, and what they check of the client they are given.

Every key starts with the store's prefix and a kind (`session`, `events`, `task`, ...), then
the id it is for: `mcpkit:session:<id>`. Ids come from peers (a Last-Event-ID header, a
`tasks/get`), so they are bytes of any length and any content; Redis keys are binary-safe,
so ':' or '*' in an id is only a byte of that one key, and the kind, which never holds ':'
or '#', keeps two kinds apart. An id longer than `_MAX_PLAIN_ID` bytes is named by its
SHA-256 after a '#' instead, so that a 100 kB id costs a 64-byte key.
"""

from __future__ import annotations

import hashlib
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

__all__ = [
    "as_bytes",
    "as_text",
    "check_client",
    "id_key",
    "lua_string",
    "milliseconds",
    "reply_bytes",
]

_MAX_PLAIN_ID: Final = 200


def as_bytes(text: str) -> bytes:
    """`text` as the bytes Redis keeps: UTF-8, lone surrogates too (a JSON string may hold
    one, and redis-py's own encoding would raise on it)."""
    return text.encode("utf-8", "surrogatepass")


def as_text(data: bytes) -> str:
    """The inverse of `as_bytes`."""
    return data.decode("utf-8", "surrogatepass")


def id_key(prefix: bytes, kind: str, ident: str) -> bytes:
    """The key of `ident` among the keys of `kind`: one key per id, never another's."""
    raw = as_bytes(ident)
    if len(raw) <= _MAX_PLAIN_ID:
        return b"%s%s:%s" % (prefix, kind.encode(), raw)
    return b"%s%s#%s" % (prefix, kind.encode(), hashlib.sha256(raw).hexdigest().encode())


def reply_bytes(value: object) -> bytes:
    """A reply that is bytes, as redis-py's types do not say: they allow for a client that
    decodes replies, which `check_client` refuses."""
    if not isinstance(value, bytes):
        raise TypeError(f"Redis answered {type(value).__name__}, where bytes were expected")
    return value


def milliseconds(seconds: float) -> int:
    """A TTL in seconds as the whole milliseconds PEXPIRE takes (at least 1)."""
    if seconds <= 0:
        raise ValueError(f"a TTL must be a positive number of seconds, not {seconds!r}")
    return max(1, round(seconds * 1000))


def check_client(client: Redis) -> None:
    """Refuse a client that decodes replies: records and events are bytes, and must come
    back as the very bytes written."""
    if client.connection_pool.connection_kwargs.get("decode_responses"):
        raise ValueError(
            "the Redis stores need a client made with decode_responses=False (the default): "
            "they keep bytes"
        )


def lua_string(text: str) -> str:
    """`text` as a Lua string literal, every byte but letters, digits and spaces escaped, so
    that a constant can be written into a script's source as it is."""
    return (
        '"'
        + "".join(
            chr(b) if (chr(b).isalnum() and b < 128) or b == 32 else f"\\{b:03d}"
            for b in text.encode()
        )
        + '"'
    )
