"""A caller's own state (`ctx.get_state()`, `ctx.set_state()`, `ctx.delete_state()`;
docs/server.md, "State"), in the server's store (`server.store.kv`), so that every process
sharing the store (`--workers`, several hosts) sees the same values.

A caller is a 2025-11-25 session (its id, and the token's principal on a protected server),
or, for a 2026-07-28 request, which has no session (nor has one to a stateless HTTP app,
whose session ends with it), the access token's principal (its issuer, subject and client:
`principal_of`), else the key the client sends in `_meta["io.mcpkit/stateKey"]`: anyone who
sends the same key reaches the same state, so it must be long and random (at least
`MIN_STATE_KEY_CHARS` characters). A request with neither is refused with an McpError saying
how to give one.

Values are JSON (as msgspec encodes them: a dataclass comes back a dict), each at most
`MAX_STATE_VALUE_BYTES`, a caller's all together at most `MAX_STATE_BYTES`, for
`DEFAULT_STATE_TTL` seconds unless a `ttl` says otherwise. Callers known only by their key
cost nothing to make, so the values they keep are also counted by the client address they
come from over HTTP: at most `MAX_KEYED_STATE_PER_ADDRESS` from one address, so that one
address writing under fresh keys cannot push everyone's state out of the store's pool.
Sessions and tokens are not counted there. Nothing here runs for a request that does not ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.meta_keys import (
    MAX_STATE_KEY_CHARS,
    MIN_STATE_KEY_CHARS,
    STATE_KEY_META,
    check_state_key,
)
from mcpkit.server.catalog.callers import lasting_session, outermost, principal_of
from mcpkit.server.state._shapes import StateRequest
from mcpkit.server.state.server_kv import encoded, valid_key, valid_ttl
from mcpkit.stores.kv import Limit

if TYPE_CHECKING:
    from mcpkit.stores.kv import KeyValueStore

__all__ = [
    "DEFAULT_STATE_TTL",
    "MAX_KEYED_STATE_PER_ADDRESS",
    "MAX_STATE_BYTES",
    "MAX_STATE_KEY_CHARS",
    "MAX_STATE_VALUE_BYTES",
    "MIN_STATE_KEY_CHARS",
    "STATE_KEY_META",
    "STATE_POOL",
    "caller_scope",
    "delete_state",
    "get_state",
    "set_state",
]

#: Seconds a caller's value is kept when `set_state` names no `ttl` (a day).
DEFAULT_STATE_TTL: Final = 86_400.0
#: Bytes of one value's JSON (64 KiB), and of one caller's keys and values together (1 MiB).
MAX_STATE_VALUE_BYTES: Final = 64 * 1024
MAX_STATE_BYTES: Final = 1024 * 1024
#: Values one client address may keep for callers known only by their key, over all their
#: keys (each value at most `MAX_STATE_VALUE_BYTES`: 4 MiB from one address at most).
MAX_KEYED_STATE_PER_ADDRESS: Final = 64
#: The pool every caller's state is written in (`Limit.pool`): every store keeps it
#: within its budget (`max_pool_bytes`), the longest-unwritten caller's state dropped
#: first, so that fresh callers cannot grow the store without end, nor one caller push out
#: everyone else's (nor, in memory, approvals or overflows).
STATE_POOL: Final = "state"
_sorted: Final = msgspec.json.Encoder(order="sorted")
#: Every way a caller can have state, as the tools that reach a server send it.
_NO_CALLER: Final = (
    "this request has no session and no access token, so its caller has no state: send a "
    f"key of your own ({MIN_STATE_KEY_CHARS} to {MAX_STATE_KEY_CHARS} random characters, "
    f'e.g. secrets.token_urlsafe(32)) in _meta["{STATE_KEY_META}"], as `mcpkit call '
    "--state-key KEY`, the inspector's State key field and the client middleware "
    "StateKey(KEY) do; or speak a 2025-11-25 session, whose state is its own (mcpkit call "
    "--protocol 2025-11-25); or call with an access token"
)


def caller_scope(ctx: StateRequest) -> list[str | None]:
    """Who the request of `ctx` comes from, for state: ["session", id, owner] in a 2025-11-25
    session that outlives the request (`lasting_session`), else ["owner", owner] with auth
    (the owner `principal_of` the token), else ["key", the client's key]; McpError (invalid
    params) naming what is missing when none applies."""
    # Who holds the token is its client acting for its subject: the same spelling as for
    # overflowed results and approvals (`principal_of`), so that two clients of one user,
    # each trusted by the user apart, never read each other's state (docs/server.md).
    owner = principal_of(ctx.auth)
    session = lasting_session(ctx)
    if session is not None:
        return ["session", session, owner]
    if owner is not None:
        return ["owner", owner]
    key = (ctx.meta or {}).get(STATE_KEY_META)
    if key is None:
        raise McpError(codes.INVALID_PARAMS, _NO_CALLER)
    wrong = check_state_key(key)
    if wrong is not None:
        raise McpError(codes.INVALID_PARAMS, f'_meta["{STATE_KEY_META}"]: {wrong}')
    assert isinstance(key, str)  # (check_state_key found nothing wrong)
    return ["key", key]


def _where(ctx: StateRequest) -> tuple[KeyValueStore, str, str | None]:
    """The store of the caller's state and its prefix there: the outermost server's (the one
    the client talks to, whose session it is, when a mounted server's handler asks), and a
    digest of that server's name and the caller, so no text of either reaches another's;
    and, for a caller known by its key over HTTP, the prefix its address's count is kept
    under (None otherwise: a session or a token is its own bound, stdio and memory one peer)."""
    import hashlib  # (only where state is used: a server that keeps none never loads it)

    server = outermost(ctx.server)
    scope = caller_scope(ctx)
    named = [server.name, *scope]
    prefix = f"state:{hashlib.sha256(_sorted.encode(named)).hexdigest()}:"
    info = ctx.request_info
    if scope[0] != "key" or info is None or info.client is None:
        return server.store.kv, prefix, None
    address = _sorted.encode([server.name, "address", info.client[0]])
    return server.store.kv, prefix, f"state-address:{hashlib.sha256(address).hexdigest()}:"


async def get_state(ctx: StateRequest, key: str, default: Any = None) -> Any:
    """`ctx.get_state()`: the caller's value of `key`, or `default`."""
    kv, prefix, _ = _where(ctx)
    data = await kv.get(prefix + valid_key("ctx.get_state()", key))
    return default if data is None else msgspec.json.decode(data)


async def set_state(ctx: StateRequest, key: str, value: Any, ttl: float | None) -> None:
    """`ctx.set_state()`: keep `value` as the caller's `key`."""
    from mcpkit.stores.kv_slots import take_slot  # (hashlib: state users only)

    where = "ctx.set_state()"
    kv, prefix, address = _where(ctx)
    name = prefix + valid_key(where, key)
    data = encoded(where, value, MAX_STATE_VALUE_BYTES)
    seconds = valid_ttl(ttl, DEFAULT_STATE_TTL)
    # Counted before it is written, for as long as it lives (the count's entry is written
    # again with each value, its TTL the value's).
    if address is not None and not await take_slot(
        kv, address, name, MAX_KEYED_STATE_PER_ADDRESS, seconds
    ):
        raise ValueError(
            f"{where}: callers known by their key from this client address already keep "
            f"{MAX_KEYED_STATE_PER_ADDRESS} values (MAX_KEYED_STATE_PER_ADDRESS): delete "
            "what they no longer need (ctx.delete_state()) or let it expire; a caller with a "
            "2025-11-25 session or an access token is not counted there"
        )
    limit = Limit(prefix, MAX_STATE_BYTES, pool=STATE_POOL)
    kept = await kv.set(name, data, seconds, limit=limit)
    if not kept:
        if address is not None and await kv.get(name) is not None:
            # The value before stays, with a TTL this write did not set: counted a day at
            # least (an older value that outlives it is the first the pool drops).
            await take_slot(
                kv, address, name, MAX_KEYED_STATE_PER_ADDRESS, max(seconds, DEFAULT_STATE_TTL)
            )
        raise ValueError(
            f"{where}: this caller's state would pass {MAX_STATE_BYTES} bytes "
            "(MAX_STATE_BYTES, keys and values), or alone fill the store's budget for all "
            "callers' state (max_pool_bytes: raise it with ?max_pool_bytes= in the store URL "
            "or max_pool_bytes= of the store): delete what it no longer needs"
        )


async def delete_state(ctx: StateRequest, key: str) -> None:
    """`ctx.delete_state()`: forget the caller's `key`."""
    from mcpkit.stores.kv_slots import release_slot  # (hashlib: state users only)

    kv, prefix, address = _where(ctx)
    name = prefix + valid_key("ctx.delete_state()", key)
    await kv.delete(name)
    # The address's count gives the slot back, so a caller known by its key that tidies up
    # can keep writing without waiting for its old values to expire.
    if address is not None:
        await release_slot(kv, address, name)
