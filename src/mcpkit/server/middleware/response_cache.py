"""`ResponseCache`: a middleware that answers a repeated `tools/call` (and, when asked,
`resources/read` and `prompts/get`) from the server's store instead of running the handler
again, for a TTL, per caller or shared (docs/server.md, "Caching responses").

An answer is keyed by the server's name, the method, the tool or prompt name or resource URI
and the version served (two callers may see two versions of one name), the arguments in
canonical JSON (keys sorted: `{"a": 1, "b": 2}` and `{"b": 2, "a": 1}` are one call) and,
per caller, who asks (`mcpkit.server.state.caller.caller_scope`). It is kept in
`server.store.kv`, so the workers sharing a store share it. Only a plain, successful result
is kept: never a tool's error result, a protocol error, a call made as a task, an answer
that links the rest of a result past its budget (kept for its caller alone, for its own
TTL: `catalog.calling.result_store`), or an answer larger than `max_entry_bytes`. What a handler
sent on the way (progress, log messages) is not replayed: a cached answer arrives alone.
While the store does not answer (`StoreUnavailable`), calls are served as if there were no
cache, and the outage is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Literal, Never, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.server.catalog.calling.result_budget import RESULT_SCHEME
from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.visibility.shown_to import serves
from mcpkit.server.state.caller import caller_scope
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import check_ttl
from mcpkit.types import CallToolResult, GetPromptResult, ReadResourceResult, ResourceLink

if TYPE_CHECKING:
    from mcpkit.runtime.layers import CallNext
    from mcpkit.server.catalog.visibility.shown_to import Request
    from mcpkit.server.state._shapes import StateRequest

__all__ = ["CACHEABLE_METHODS", "DEFAULT_CACHE_TTL", "DEFAULT_MAX_ENTRY_BYTES", "ResponseCache"]

#: The methods a `ResponseCache` may answer, and the result type each answers with.
CACHEABLE_METHODS: Final[dict[str, type[Any]]] = {
    "tools/call": CallToolResult,
    "resources/read": ReadResourceResult,
    "prompts/get": GetPromptResult,
}
#: Seconds an answer is kept when `ttl` is not given.
DEFAULT_CACHE_TTL: Final = 60.0
#: The largest answer kept (JSON bytes): a larger one is passed on and not kept.
DEFAULT_MAX_ENTRY_BYTES: Final = 256 * 1024

logger = logging.getLogger("mcpkit.server")

#: For the key: one call, however its arguments' keys were ordered. An answer is kept as
#: `_encoder` writes it, since its order is the handler's.
_sorted: Final = msgspec.json.Encoder(order="sorted")
_encoder: Final = msgspec.json.Encoder()


class ResponseCache:
    """Answers repeated calls from the store (see the module). `ttl` is seconds an answer
    is kept; `scope` "caller" keeps one answer per caller (a 2025 session, a token's owner,
    a 2026 client's state key; a call with none of these is not cached), "shared" one for
    everyone (only for tools whose answer is the same whoever asks). `tools` names the only
    tools cached (None: all), `exclude_tools` tools never cached; `methods` are those
    answered (`CACHEABLE_METHODS`; by default tools/call alone)."""

    __slots__ = ("_exclude", "_max_bytes", "_methods", "_shared", "_store_down", "_tools", "_ttl")

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_CACHE_TTL,
        scope: Literal["caller", "shared"] = "caller",
        tools: Iterable[str] | None = None,
        exclude_tools: Iterable[str] = (),
        methods: Iterable[str] = ("tools/call",),
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        **misspelt: Never,
    ) -> None:
        check_options("ResponseCache()", misspelt, ResponseCache.__init__)
        self._ttl = check_ttl(ttl)
        if scope not in ("caller", "shared"):
            raise ValueError(f'scope must be "caller" or "shared", not {scope!r}')
        self._shared = scope == "shared"
        for name in (tools, exclude_tools):
            if isinstance(name, str):  # a string is an iterable of letters: surely a slip
                raise TypeError(f"tools and exclude_tools take a list of names, not {name!r}")
        self._tools = None if tools is None else frozenset(tools)
        self._exclude = frozenset(exclude_tools)
        self._methods = frozenset(methods)
        unknown = sorted(self._methods - CACHEABLE_METHODS.keys())
        if unknown or not self._methods:
            raise ValueError(
                f"ResponseCache answers {', '.join(CACHEABLE_METHODS)}; not {unknown or 'none'}"
            )
        if max_entry_bytes < 1:
            raise ValueError(f"max_entry_bytes must be at least 1, not {max_entry_bytes}")
        self._max_bytes = max_entry_bytes
        self._store_down = False  # said once per outage: every call meets it meanwhile

    async def __call__(self, ctx: StateRequest, params: Any, call_next: CallNext) -> Any:
        method = ctx.method
        if method not in self._methods:
            return await call_next(params)
        target = str(field_of(params, "uri" if method == "resources/read" else "name"))
        # The handler hides items and checks scopes inside this layer: a kept answer goes
        # only to a request it would serve (else the handler refuses it, as without a cache).
        request = cast("Request", ctx)
        found = serves(request.server, request, method, target)
        if found is None:
            return await call_next(params)
        # (Two requests may see two versions of one name: each is kept apart.)
        version: str | None = None if found.item is None else found.item.version
        key = self._key(ctx, method, [target, version], params)
        if key is None:
            return await call_next(params)
        kind = CACHEABLE_METHODS[method]
        kv = ctx.server.store.kv
        try:
            kept = await kv.get(key)
        except StoreUnavailable as exc:  # a cache is an optimisation: never the call's end
            self._down(exc)
            return await call_next(params)
        self._up()
        # Decoded into the method's result type, as the handler answers: the layers outside
        # see the same kind of object whether the answer was kept or not.
        if kept is not None:
            return msgspec.json.decode(kept, type=kind)
        result = await call_next(params)
        # Exactly the result type: whatever else an inner layer returned is passed on unkept.
        if type(result) is kind and not (kind is CallToolResult and _not_kept(result)):
            data = _encoder.encode(result)
            if len(data) <= self._max_bytes:
                try:
                    await kv.set(key, data, self._ttl)
                except StoreUnavailable as exc:  # (the answer is the handler's: sent still)
                    self._down(exc)
        return result

    def _down(self, exc: StoreUnavailable) -> None:
        if not self._store_down:
            self._store_down = True
            logger.warning("ResponseCache: serving uncached while the store is down (%s)", exc)

    def _up(self) -> None:
        if self._store_down:
            self._store_down = False
            logger.info("ResponseCache: the store answers again; caching resumed")

    def _key(
        self, ctx: StateRequest, method: str, target: list[str | None], params: Any
    ) -> str | None:
        """The key of this call's answer (to `target`, the name or URI it names and the
        version served), or None when it is not to be cached."""
        arguments = None if method == "resources/read" else field_of(params, "arguments")
        if method == "tools/call" and not self._tool_cached(str(target[0]), params):
            return None
        if isinstance(arguments, msgspec.Raw):  # (empty when the call had none)
            try:
                arguments = msgspec.json.decode(arguments) if len(arguments) else None
            except msgspec.DecodeError:
                return None  # the handler says what is wrong with them, every time
        who: list[str | None] = []
        if not self._shared:
            try:
                who = caller_scope(ctx)
            except McpError:
                return None  # no caller to keep an answer for: served, not kept
        import hashlib  # (only where a cache is used)

        named = _sorted.encode([ctx.server.name, method, target, arguments, who])
        return f"cache:{hashlib.sha256(named).hexdigest()}"

    def _tool_cached(self, name: str, params: Any) -> bool:
        if field_of(params, "task") is not None:  # a task's answer is its handle
            return False
        return name not in self._exclude and (self._tools is None or name in self._tools)


def _not_kept(result: CallToolResult) -> bool:
    """Whether a tool's answer must not be kept: an error, or one that links the rest of a
    result past its budget, which only its caller may read, and only for that rest's TTL
    (replayed to another caller, or later, the link would lead nowhere)."""
    return bool(result.is_error) or any(
        isinstance(block, ResourceLink) and block.uri.startswith(RESULT_SCHEME)
        for block in result.content
    )
