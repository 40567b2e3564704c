"""`RateLimit`: a server middleware that answers requests over a token-bucket rate with an
error saying when to retry, per session or per authorized identity, in bounded memory."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from mcpkit.errors import McpError
from mcpkit.server.session import ServerSessionHandle

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.server.middleware import CallNext
    from mcpkit.stores.buckets import SharedBuckets

__all__ = ["RATE_LIMITED", "RateLimit"]

#: The JSON-RPC error code of a refused request. The spec defines none for rate limits, and
#: 2026-07-28 (basic/index, "Error Codes") reserves -32020..-32099 for its own codes and
#: retires -32000..-32019, so this is an application code outside JSON-RPC's reserved
#: -32768..-32000 (JSON-RPC 2.0 section 5.1), -31429 recalling HTTP's 429.
RATE_LIMITED = -31429

logger = logging.getLogger("mcpkit.ratelimit")


class _Bucket:
    """One key's token bucket: `tokens` as of `stamp`, refilled only when it is next drawn on
    (`RateLimit._bucket`), so that an idle key costs no timer."""

    __slots__ = ("refused", "stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.refused = 0  # refusals since the last request let through


class RateLimit:
    """Lets each key make `burst` requests at once and `rate` a second after that (a token
    bucket); a request over it is answered with `RATE_LIMITED` and data `{"retryAfter":
    seconds, "rate", "burst"}`, and never reaches the handler.

    Args:
        rate: requests a second each key earns back.
        burst: requests a key may make at once (the bucket's size); `max(1, rate)` if None.
        per: "identity" (the verified token's subject, or its client id, when the server is
            protected; the session otherwise) or "session" (always the session: its
            Mcp-Session-Id over Streamable HTTP). A request over HTTP that has no session
            (2026-07-28, or a stateless app's): without a token its bucket is its client's
            IP address, one shared by all whose address the server does not know.
        methods: the methods counted (`{"tools/call"}`, say); every method the layers see if
            None (initialize and ping never reach them).
        max_keys: buckets kept at most. The least recently used goes first when full, and a
            bucket idle long enough to be full again is dropped as soon as it is the oldest
            (it is the same as none), so a flood of sessions or identities costs no memory
            beyond this. A key dropped while not full starts again with a full bucket.
        clock: seconds, monotonic; the running loop's time if None (so `fake_clock` works).
        shared: count in the server's store when it keeps buckets every process reads
            (`Server(store="redis://...")`: `Stores.buckets`), so that the limit holds
            however many processes serve a key; True by default. With a store that keeps
            none (memory, SQLite), or False, each process counts its own.
    """

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        per: Literal["identity", "session"] = "identity",
        methods: Iterable[str] | None = None,
        max_keys: int = 10_000,
        clock: Callable[[], float] | None = None,
        shared: bool = True,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be a positive number of requests a second, not {rate}")
        burst = max(1, math.ceil(rate)) if burst is None else burst
        if burst < 1:
            raise ValueError(f"burst must be at least 1 request, not {burst}")
        if per not in ("identity", "session"):
            raise ValueError(f'per must be "identity" or "session", not {per!r}')
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, not {max_keys}")
        self.rate = float(rate)
        self.burst = burst
        self.per = per
        self.methods = frozenset(methods) if methods is not None else None
        self.max_keys = max_keys
        self.clock = clock
        self.shared = shared
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        #: Keys refused by the shared buckets since they were last let through, so that a
        #: run of refusals logs once (bounded as the buckets are).
        self._refusing: OrderedDict[str, None] = OrderedDict()
        self._refill_time = burst / self.rate  # idle seconds after which a bucket is full

    def __len__(self) -> int:
        """Buckets held now (at most `max_keys`)."""
        return len(self._buckets)

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        if self.methods is None or ctx.method in self.methods:
            buckets = self._shared_buckets(ctx)
            if buckets is None:
                self.take(self.key_of(ctx), ctx.method)
            else:
                await self._take_shared(buckets, self.key_of(ctx), ctx.method)
        return await call_next(params)

    def _shared_buckets(self, ctx: Context) -> SharedBuckets | None:
        """The store's buckets, which every process reads; None where `shared` is off or the
        store keeps none (memory, SQLite), and this process counts alone."""
        if not self.shared:
            return None
        return ctx.server.store.buckets

    async def _take_shared(self, buckets: SharedBuckets, key: str, method: str) -> None:
        """`take`, from the bucket every process reads; this process's own while the store
        cannot be reached (a limit must not take the server down with its store)."""
        try:
            wait = await buckets.take(key, self.rate, self.burst)
        except Exception:
            logger.warning("rate limit: the shared buckets failed; counting here", exc_info=True)
            self.take(key, method)
            return
        refusing = self._refusing
        if wait <= 0.0:
            refusing.pop(key, None)
            return
        # Bounded as the buckets are: a flood of refused keys costs the oldest only their
        # log-once mark, and one of them refused again is logged again.
        first = key not in refusing
        refusing[key] = None
        refusing.move_to_end(key)
        if len(refusing) > self.max_keys:
            refusing.popitem(last=False)
        raise self._refusal(key, method, math.ceil(wait * 1000) / 1000, log=first)

    def key_of(self, ctx: Context) -> str:
        """The bucket a request draws from."""
        token = ctx.auth if self.per == "identity" else None
        if token is not None:
            if token.subject is not None:
                return f"sub:{token.subject}"
            if token.client_id is not None:
                return f"client:{token.client_id}"
        # Streamable HTTP names the session itself (and checked the id before we run), the
        # same in every process that serves it; over stdio, memory and the legacy HTTP+SSE
        # transport, the session object, whose id lasts as long as it does.
        info = ctx.request_info
        session_id = info.header("mcp-session-id") if info is not None else None
        if session_id is not None:
            return f"session:{session_id}"
        session = ctx.session
        terms = ctx.terms
        if isinstance(session, ServerSessionHandle) and not (
            info is not None and terms is not None and terms.stateless
        ):
            return f"session:{session.id}"
        # A request over HTTP that has no session (2026-07-28, or a stateless app's, whose
        # session is made for the one request) draws on its client's address, never on a
        # bucket of its own; all those whose address the server does not know (an ASGI
        # server on a Unix socket gives none) share one.
        client = info.client if info is not None else None
        return f"peer:{client[0]}" if client is not None else "peer:unknown"

    def take(self, key: str, method: str) -> None:
        """Spend one request of `key`'s bucket, or raise the `RATE_LIMITED` McpError."""
        now = self.clock() if self.clock is not None else asyncio.get_running_loop().time()
        bucket = self._bucket(key, now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.refused = 0
            return
        bucket.refused += 1
        # Rounded up to the millisecond: retrying after it always finds a token.
        retry_after = math.ceil((1.0 - bucket.tokens) / self.rate * 1000) / 1000
        raise self._refusal(key, method, retry_after, log=bucket.refused == 1)

    def _refusal(self, key: str, method: str, retry_after: float, *, log: bool) -> McpError:
        if log:  # once per run of refusals: a flood must not flood the log
            logger.warning(
                "rate limit: refused %s for %s (retry after %.3f s)", method, key, retry_after
            )
        return McpError(
            RATE_LIMITED,
            f"Too many requests: {method} is limited to {self.rate:g} a second in bursts of "
            f"{self.burst}; retry after {retry_after:g} s",
            {"retryAfter": retry_after, "rate": self.rate, "burst": self.burst},
        )

    def _bucket(self, key: str, now: float) -> _Bucket:
        """`key`'s bucket, refilled for the time since it was last drawn on (full if new).
        Moved to the newest end on every use: the dict stays in least-recently-used order,
        which `_make_room` relies on."""
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            self._make_room(now)
            bucket = buckets[key] = _Bucket(float(self.burst), now)
            return bucket
        buckets.move_to_end(key)
        elapsed = max(0.0, now - bucket.stamp)  # a clock set back refills nothing
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.stamp = now
        return bucket

    def _make_room(self, now: float) -> None:
        """Before a new bucket: drop the oldest if it is full again, or if there is no room."""
        buckets = self._buckets
        while buckets:
            oldest = next(iter(buckets.values()))
            # The oldest is the most idle: if it is not full again, no later one is, and
            # unless the dict is at its bound the newest bucket simply joins them.
            if now - oldest.stamp < self._refill_time and len(buckets) < self.max_keys:
                return
            buckets.popitem(last=False)
