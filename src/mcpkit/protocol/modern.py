"""The modern revision (2026-07-28) on the server: a modern request.

Spec: basic/index ("_meta", "Per-request protocol fields", "Error Codes"), basic/versioning,
server/discover, server/utilities/caching. From 2026-07-28 there is no handshake: each request
names its revision and the client's capabilities (and, optionally, the client's info and the
log level it wants) in `_meta`, and each result names its type (`resultType`) and the server
(`_meta`'s `io.modelcontextprotocol/serverInfo`); list and read results say how long they stay
fresh (`ttlMs`, `cacheScope`).

`ModernCodec.read` reads those keys into the `Terms` the request is served under, or the
error that refuses it; `RESULT_SHAPE` adds what a 2026 result carries to one built with
`mcpkit.types` (the handlers' types in both eras). Finding out whether a request is one of
these at all costs a substring search of its params (`carries_terms`), never a decode: a
2025-era session pays nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.extensions import Extension
from mcpkit.protocol.terms import LOG_LEVEL_NAMES, RequestTerms, Terms
from mcpkit.protocol.unread_meta import unread_types
from mcpkit.types import ClientCapabilities, Implementation, RequestId
from mcpkit.types.methods import MODERN_REVISIONS, methods_for

__all__ = [
    "CACHEABLE",
    "CLIENT_CAPABILITIES_KEY",
    "CLIENT_INFO_KEY",
    "CachePolicy",
    "LOG_LEVEL_KEY",
    "REVISION_KEY",
    "ROUND_TRIP_METHODS",
    "SERVER_INFO_KEY",
    "SUBSCRIPTION_ID_KEY",
    "ModernCodec",
    "ModernOffer",
    "carries_terms",
    "encode_merged_response",
    "is_modern_revision",
    "missing_capability",
    "unsupported_revision",
]

REVISION_KEY: Final = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY: Final = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO_KEY: Final = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL_KEY: Final = "io.modelcontextprotocol/logLevel"
SERVER_INFO_KEY: Final = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID_KEY: Final = "io.modelcontextprotocol/subscriptionId"
# What marks a request as one that carries its terms: a key of the reserved prefix that only
# per-request terms use (`"io.modelcontextprotocol/protocolVersion"`, or one that begins
# `"io.modelcontextprotocol/client`). Searched as the prefix, once, then what follows it: one
# pass over the bytes (two searches, one per key, cost a 2025 body two whole passes).
_MARK: Final = b'"io.modelcontextprotocol/'
_MARK_END: Final = len(_MARK)
_AFTER_REVISION: Final = b'protocolVersion"'
_AFTER_CLIENT: Final = b"client"

#: Methods whose result may be an InputRequiredResult (basic/patterns/mrtr, "Supported
#: Requests"); any other answers only with its own result or an error.
ROUND_TRIP_METHODS: Final = frozenset({"tools/call", "prompts/get", "resources/read"})


#: Methods whose results carry `ttlMs` and `cacheScope` (CacheableResult in schema.ts).
def _cacheable(result: type | None) -> bool:
    if result is None or not issubclass(result, msgspec.Struct):
        return False
    return any(f.name == "ttl_ms" and f.required for f in msgspec.structs.fields(result))


CACHEABLE: Final = frozenset(
    m
    for m, info in methods_for("2026-07-28").items()
    if info.kind == "request" and _cacheable(info.result)
)
_LOG_LEVELS: Final = frozenset(LOG_LEVEL_NAMES)


def is_modern_revision(revision: str | None) -> bool:
    """Whether `revision` is one without sessions (each request carries its terms)."""
    return revision in MODERN_REVISIONS


def carries_terms(params: bytes | msgspec.Raw | msgspec.UnsetType | None) -> bool:
    """Whether a request's raw params name per-request terms in their `_meta` (a 2026 request,
    or a malformed one trying to be): a substring search, no decode."""
    if type(params) is bytes:  # (a POST's body: tested first, the others cost it nothing)
        data = params
    elif params is None or isinstance(params, msgspec.UnsetType):
        return False
    else:
        data = bytes(params)
    # (`find`, not `in`: `bytes in bytes` raises and clears a TypeError inside CPython first.
    # The prefix holds one quote, its first byte, so no occurrence of it starts inside another:
    # the next is searched for past the end of the last.)
    at = data.find(_MARK)
    while at >= 0:
        at += _MARK_END
        if data.startswith(_AFTER_REVISION, at) or data.startswith(_AFTER_CLIENT, at):
            return True
        at = data.find(_MARK, at)
    return False


class _Meta(msgspec.Struct):
    meta: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw, name="_meta")


# A client sends the same `_meta` on most of its requests: its terms are read once, by the
# bytes of that `_meta`, and shared (Terms are frozen). Bounded in entries and in bytes: a
# `_meta` longer than _CACHED_META_BYTES (a client's is a few hundred) is read each time, so
# a cache holds at most 256 x 4 KiB whatever peers send; emptied when full.
_TERMS_CACHE_SIZE: Final = 256
_CACHED_META_BYTES: Final = 4096
#: The longest params `ModernCodec.cached` keeps a copy of, to tell them again by a compare.
_SAME_PARAMS_BYTES: Final = 8192
_BEFORE_KEY: Final = frozenset(b",{")
_CLOSE: Final = ord("}")


def _names_token(meta: bytes) -> bool:
    """Whether the `_meta` `meta` (a JSON object's text) may have a `progressToken` member:
    False only when its bytes hold neither the name nor a backslash (an escape could spell
    the name otherwise)."""
    return meta.find(b"progressToken") >= 0 or meta.find(b"\\") >= 0


def unsupported_revision(requested: str, supported: Sequence[str]) -> McpError:
    """UnsupportedProtocolVersionError (-32022, basic/versioning), listing what we speak. A
    client of both eras that finds only handshake revisions in the list falls back to
    `initialize`."""
    return McpError(
        codes.UNSUPPORTED_PROTOCOL_VERSION,
        f"Unsupported protocol version {requested!r}: this server speaks {', '.join(supported)}",
        {"supported": list(supported), "requested": requested},
    )


def missing_capability(path: Sequence[str]) -> McpError:
    """MissingRequiredClientCapabilityError (-32021): serving the request needs a capability the
    client did not declare in its `_meta`; `data.requiredCapabilities` is a ClientCapabilities
    object naming it (`{"sampling": {}}`)."""
    required: dict[str, Any] = {}
    node = required
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = {}
    return McpError(
        codes.MISSING_REQUIRED_CLIENT_CAPABILITY,
        f"this request needs the client capability '{'.'.join(path)}', which the request's "
        f"_meta ({CLIENT_CAPABILITIES_KEY}) does not declare",
        {"requiredCapabilities": required},
    )


class _TermParts(msgspec.Struct):
    """The `_meta` members a request's terms are read from, as their JSON text (the rest of
    the `_meta`, a progress token say, is skipped undecoded)."""

    revision: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw, name=REVISION_KEY)
    capabilities: msgspec.Raw = msgspec.field(
        default_factory=msgspec.Raw, name=CLIENT_CAPABILITIES_KEY
    )
    info: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw, name=CLIENT_INFO_KEY)
    level: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw, name=LOG_LEVEL_KEY)


_decode_parts = msgspec.json.Decoder(_TermParts).decode


def _read_terms(data: bytes, supported: Sequence[str]) -> Terms[ClientCapabilities] | McpError:
    try:
        decoded: Any = msgspec.json.decode(data)
    except msgspec.DecodeError:
        decoded = None
    if not isinstance(decoded, dict):
        return _invalid("the request's _meta is not an object")
    meta = cast("dict[str, Any]", decoded)
    revision = meta.get(REVISION_KEY)
    caps = meta.get(CLIENT_CAPABILITIES_KEY)
    missing = [
        k for k, v in ((REVISION_KEY, revision), (CLIENT_CAPABILITIES_KEY, caps)) if v is None
    ]
    if missing:
        return _invalid(f"_meta lacks the required {' and '.join(missing)}")
    if not isinstance(revision, str):
        return _invalid(f"_meta's {REVISION_KEY} must be a string")
    modern = [r for r in supported if r in MODERN_REVISIONS]
    if revision not in modern:
        return unsupported_revision(revision, supported)
    try:
        capabilities = msgspec.convert(caps, ClientCapabilities)
        raw_info = meta.get(CLIENT_INFO_KEY)
        info = None if raw_info is None else msgspec.convert(raw_info, Implementation)
    except msgspec.ValidationError as exc:
        return _invalid(f"_meta's client capabilities or info are malformed: {exc}")
    level = meta.get(LOG_LEVEL_KEY)
    if level is not None and not (isinstance(level, str) and level in _LOG_LEVELS):
        # (not `level in`: a list or an object from the peer is unhashable)
        return _invalid(f"_meta's {LOG_LEVEL_KEY} must be one of {', '.join(LOG_LEVEL_NAMES)}")
    return RequestTerms(revision, capabilities, info, stateless=True, log_level=level)


def _invalid(why: str) -> McpError:
    return McpError(codes.INVALID_PARAMS, f"Invalid params: {why}")


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How long a cacheable result stays fresh (server/utilities/caching): `ttl_ms` and
    `scope` for every cacheable method, with `per_method` overrides ("tools/list": (ms,
    scope)). `private` by default: a result may depend on who asks (auth scopes, say)."""

    ttl_ms: int = 0
    scope: Literal["public", "private"] = "private"
    per_method: Mapping[str, tuple[int, Literal["public", "private"]]] = field(
        default_factory=dict[str, tuple[int, Literal["public", "private"]]]
    )

    def __post_init__(self) -> None:
        for ttl, scope in (
            (self.ttl_ms, self.scope),
            *self.per_method.values(),
        ):
            if type(ttl) is not int or ttl < 0:  # (not a bool, not a float)
                raise ValueError(f"a cache ttl is a whole number of milliseconds >= 0, not {ttl!r}")
            if scope not in ("public", "private"):
                raise ValueError(f"a cache scope is 'public' or 'private', not {scope!r}")

    def for_method(self, method: str) -> tuple[int, str]:
        return self.per_method.get(method, (self.ttl_ms, self.scope))


#: What params decode into where nothing differs from the revision's table (one mapping:
#: `unread_types` keeps a table for each one it is given).
_NO_PARAM_TYPES: Final[Mapping[str, type]] = {}
#: The cache hints where a server sets none: every result private, fresh for no time.
_DEFAULT_CACHE: Final = CachePolicy()


def _shaped(
    result: Any, method: str, server_info: Implementation, cache: CachePolicy
) -> dict[str, Any]:
    """`ModernCodec.response`'s result the long way: as Python objects, shaped, encoded."""
    shaped: dict[str, Any] = msgspec.to_builtins(result)
    shaped.setdefault("resultType", "complete")
    meta = shaped.get("_meta")
    info = msgspec.to_builtins(server_info)
    shaped["_meta"] = {SERVER_INFO_KEY: info} if not meta else {SERVER_INFO_KEY: info, **meta}
    if method in CACHEABLE:
        ttl, scope = cache.for_method(method)
        shaped.setdefault("ttlMs", ttl)
        shaped.setdefault("cacheScope", scope)
    return shaped


_encode = msgspec.json.Encoder().encode
#: The fields `ModernCodec.response` adds; a struct setting any of them is shaped the long way.
_ADDED: Final = ("meta", "result_type", "ttl_ms", "cache_scope")
#: `_added_fields_of` for what is no struct (a dict, say).
_LONG_WAY: Final[tuple[str, ...]] = ("(not a struct)",)
#: `_added_fields_of` for the usual result type, which has `meta` alone: one object, told by
#: identity (`ModernCodec.response`).
_META_ONLY: Final[tuple[str, ...]] = ("meta",)


def _added_fields_of(kind: type) -> tuple[str, ...]:
    """Which of `_ADDED` the result type `kind` has as fields (most have `meta` alone), or
    `_LONG_WAY` when it is no struct."""
    if not issubclass(kind, msgspec.Struct):
        return _LONG_WAY
    fields = kind.__struct_fields__
    found = tuple(n for n in _ADDED if n in fields)
    return _META_ONLY if found == _META_ONLY else found


#: (server info, cache policy, the members a result starts with).
_Head = tuple[Implementation, CachePolicy, bytes]


class ModernCodec:
    """Reads the terms that 2026-07-28 requests carry and encodes their answers, keeping what
    earlier requests taught it: the terms of each `_meta` seen, the head of each method's
    answers. A `Server` holds one and hands it to every protocol session it builds, so what
    one request learnt serves the next, and nothing is shared between the servers of a
    process (a test starts from nothing by building its server). `supported` is every
    revision the server speaks, the modern ones first (`ModernOffer.all_revisions`)."""

    __slots__ = (
        "_fields",
        "_heads",
        "_last",
        "_parts",
        "_same",
        "_terms",
        "names_token",
        "supported",
    )

    def __init__(self, supported: Sequence[str]) -> None:
        self.supported = tuple(supported)
        #: `_meta` bytes -> the terms they say (or the refusal), see `_TERMS_CACHE_SIZE`.
        self._terms: dict[bytes, Terms[ClientCapabilities] | McpError] = {}
        #: The terms members of a `_meta` -> what they say (`_by_parts`).
        self._parts: dict[tuple[bytes, ...], Terms[ClientCapabilities] | McpError] = {}
        #: The last `cached` hit: its params' tail from the byte before `"_meta":` on, its
        #: terms, and whether its `_meta` may name a progress token (`names_token`).
        self._last: tuple[bytes, Terms[ClientCapabilities] | None, bool] = (b"\x00", None, True)
        #: The params of the last `cached` hit found by its `_meta` looked up (a copy of at
        #: most _SAME_PARAMS_BYTES), its terms and `names_token`: the same params again (a
        #: list request, a call repeated) are told by one comparison.
        self._same: tuple[bytes | msgspec.Raw, Terms[ClientCapabilities] | None, bool] = (
            b"",
            None,
            True,
        )
        #: Whether the `_meta` of the params `cached` last found terms for may name a
        #: progress token: False when its bytes cannot (`_names_token`), and the session
        #: then looks for none in it, which is what lets it leave the `_meta` undecoded
        #: (`unread_meta`). Read right after `cached` or `read` answered.
        self.names_token = True
        #: method -> `_Head` (server info, cache policy, the members a result of theirs
        #: starts with, without the object's braces): the objects are compared by identity
        #: (a server's info is replaced, not changed, when it changes: the proxy's is its
        #: upstream's).
        self._heads: dict[str, _Head] = {}
        #: A result type -> `_added_fields_of` it (one entry per type a handler returns).
        self._fields: dict[type, tuple[str, ...]] = {}

    @property
    def cached_metas(self) -> list[bytes]:
        """The `_meta`s whose terms are kept (their bound is tested)."""
        return list(self._terms)

    def cached(
        self, params: bytes | msgspec.Raw | msgspec.UnsetType | None
    ) -> Terms[ClientCapabilities] | None:
        """What `read` answered for the same `_meta` before, found without decoding
        anything; None when it cannot tell (then `read` decides).

        A client sends the same `_meta` with most requests, and mcpkit's and the SDKs'
        clients put it last. So the bytes between the last `"_meta":` and the params'
        closing brace are looked up as they are. Only where the key follows `{` or `,`: in
        valid JSON (the envelope parsed) those quotes are then a key's, not a string's inside
        (whose quotes would be escaped), and a cached object followed by the last brace is
        the value of the params' last member."""
        # (`is UNSET`, not isinstance of its type: UNSET is the one instance of it)
        if params is None or params is msgspec.UNSET:
            return None
        # (A Raw equals only a Raw of the same bytes, bytes only the same bytes.)
        same, same_terms, token = self._same
        if params == same:
            self.names_token = token
            return same_terms
        data: bytes = params if type(params) is bytes else bytes(params)
        # The last hit first: the same client's next request ends the same way. A tail
        # holds no `"_meta":` but its first (it was cut at the last one), and begins with the
        # `{` or `,` before it, so the rule holds.
        tail, last_terms, token = self._last
        if data.endswith(tail):
            self.names_token = token
            return last_terms
        at = data.rfind(b'"_meta":')
        if at < 1 or data[at - 1] not in _BEFORE_KEY or data[-1] != _CLOSE:
            return None
        meta = data[at + 8 : -1]
        found = self._terms.get(meta)
        # Terms only: a refusal was cached for what some request sent (server/discover with
        # any `_meta`, say), and a 2025-era request with the same `_meta` must not get it.
        if not isinstance(found, Terms):
            return None
        token = self.names_token = _names_token(meta)
        self._last = (data[at - 1 :], found, token)
        if len(data) <= _SAME_PARAMS_BYTES:
            # (A copy: a decoded Raw is a view of the whole body, which is not to be kept.)
            self._same = (params.copy() if type(params) is msgspec.Raw else data, found, token)
        return found

    def read(
        self, params: bytes | msgspec.Raw | msgspec.UnsetType | None
    ) -> Terms[ClientCapabilities] | McpError:
        """The terms a request carries in its params' `_meta`, or why it is refused: -32602
        when a required key is missing or malformed (basic/index), -32022 for a revision we
        do not speak (of either era: a session-era revision is only ever settled by
        `initialize`)."""
        try:
            raw = b"{}" if params is None or isinstance(params, msgspec.UnsetType) else params
            meta_raw = msgspec.json.decode(bytes(raw), type=_Meta).meta
        except msgspec.ValidationError:
            meta_raw = msgspec.Raw()
        if not meta_raw:
            return _invalid(
                "the request has no _meta object; a 2026-07-28 request carries its terms"
            )
        meta = bytes(meta_raw)
        self.names_token = _names_token(meta)
        if len(meta) > _CACHED_META_BYTES:
            return _read_terms(meta, self.supported)
        cache = self._terms
        found = cache.get(meta)
        if found is None:
            found = self._by_parts(meta)
            if len(cache) >= _TERMS_CACHE_SIZE:
                cache.clear()
            cache[meta] = found
        return found

    def _by_parts(self, meta: bytes) -> Terms[ClientCapabilities] | McpError:
        """`_read_terms`, shared by every `_meta` with the same terms members: a `_meta` that
        also carries what changes with each request (`progressToken`) is new bytes every
        time, and would otherwise be read in full, capabilities and all, on every request."""
        try:
            parts = _decode_parts(meta)
        except msgspec.ValidationError:
            return _read_terms(meta, self.supported)  # not an object: that is what it is told
        key = (
            bytes(parts.revision),
            bytes(parts.capabilities),
            bytes(parts.info),
            bytes(parts.level),
        )
        cache = self._parts
        found = cache.get(key)
        if found is None:
            # (`_read_terms` reads those members alone, so its answer is theirs; `read`
            # reads a `_meta` past _CACHED_META_BYTES itself, so an entry is bounded as there)
            found = _read_terms(meta, self.supported)
            if len(cache) >= _TERMS_CACHE_SIZE:
                cache.clear()
            cache[key] = found
        return found

    def response(
        self,
        request_id: RequestId,
        result: Any,
        method: str,
        server_info: Implementation,
        cache: CachePolicy,
    ) -> bytes:
        """The response to a 2026-07-28 request: `result` (built with `mcpkit.types`, or a
        dict) with `resultType` ("complete" unless it says otherwise), the server's info in
        `_meta`, and the cache hints of a cacheable method where the result sets none.

        The common case, a result struct that sets none of those fields (a tool's result),
        is encoded once and the fields spliced in front of its own, as bytes: no round trip
        through Python objects on every answer (docs/performance.md, "2026-07-28")."""
        kind: type = type(result)  # pyright: ignore[reportUnknownVariableType]  # (Any)
        names = self._fields.get(kind)
        if names is None:
            names = self._fields[kind] = _added_fields_of(kind)
        if names is _META_ONLY:
            # (the usual result: its one such field read, not a loop of `getattr` calls)
            meta = result.meta
            plain = meta is None or meta is msgspec.UNSET
        else:
            plain = names is not _LONG_WAY and _sets_none(result, names)
        if plain:  # sets none of them
            head = self._heads.get(method)
            if head is None or head[0] is not server_info or head[1] is not cache:
                head = self._heads[method] = _head(method, server_info, cache)
            return encode_merged_response(request_id, head[2], _encode(result))
        return jsonrpc.encode_response(request_id, _shaped(result, method, server_info, cache))


class _ParamsMeta(msgspec.Struct):
    """Only the `_meta` of a request's params: the rest is skipped undecoded."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class ModernOffer:
    """What a server offers requests that carry their own terms (2026-07-28), beside the
    handshake revisions its sessions speak: the modern revisions (none: the legacy era only),
    every revision as server/discover and -32022 list them, the freshness hints of cacheable
    results, what params decode into, the extensions served (SEP-2133) and the codec.

    One object for a server, built when its settings are read (`ProtocolSessions`) and held
    by every protocol session it builds: a session keeps one reference, not eight settings,
    and they are read on every request that carries its terms as attributes of one object."""

    __slots__ = (
        "all_revisions",
        "cache",
        "codec",
        "extension_of",
        "extensions",
        "param_types",
        "revisions",
        "unread_types",
    )

    def __init__(
        self,
        supported_revisions: Sequence[str],
        revisions: Sequence[str] = MODERN_REVISIONS,
        *,
        cache: CachePolicy | None = None,
        param_types: Mapping[str, type] | None = None,
        extensions: Sequence[Extension] = (),
        codec: ModernCodec | None = None,
    ) -> None:
        self.revisions = tuple(revisions)
        self.all_revisions = (*self.revisions, *supported_revisions)
        self.cache = _DEFAULT_CACHE if cache is None else cache
        #: What params decode into, where it differs from the revision's table; `unread_types`
        #: the same with each type's twin whose `_meta` is left unread (`unread_meta`).
        self.param_types: Mapping[str, type] = param_types or _NO_PARAM_TYPES
        self.unread_types = unread_types(self.param_types)
        self.extensions = tuple(extensions)
        #: An extension's method -> the extension (a plain dict: `in` is no method call).
        self.extension_of = {m: ext for ext in self.extensions for m in ext.methods}
        # A codec given (the server's, shared by its sessions) serves only if it reads the
        # same revisions; else this offer has its own.
        if codec is None or codec.supported != self.all_revisions:
            codec = ModernCodec(self.all_revisions)
        self.codec = codec

    def revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None:
        """-32022 for a refused request whose `_meta` names a revision not offered; None
        where it names none, or one offered (the refusal it was due is then the answer)."""
        if isinstance(params, msgspec.UnsetType):
            return None
        try:
            meta = msgspec.json.decode(params, type=_ParamsMeta).meta
        except msgspec.ValidationError:
            return None  # params or _meta not an object: they name no revision
        requested = meta.get(REVISION_KEY) if meta else None
        if not isinstance(requested, str) or requested in self.all_revisions:
            return None
        return unsupported_revision(requested, self.all_revisions)


def encode_merged_response(request_id: RequestId, members: bytes, body: bytes) -> bytes:
    """A result response whose result is `body`, an encoded JSON object, with `members`
    (encoded object members, `"a":1,"b":{}`) put before its own: one copy of each, where
    building the result object and encoding it again would decode nothing but cost more."""
    if body == b"{}":
        if type(request_id) is int:  # (not a bool: JSON true is no id)
            return b'{"jsonrpc":"2.0","id":%d,"result":{%b}}' % (request_id, members)
        return b'{"jsonrpc":"2.0","id":%b,"result":{%b}}' % (_encode(request_id), members)
    if type(request_id) is int:
        return b'{"jsonrpc":"2.0","id":%d,"result":{%b,%b}' % (request_id, members, body[1:])
    rid = _encode(request_id)
    return b'{"jsonrpc":"2.0","id":%b,"result":{%b,%b}' % (rid, members, body[1:])


def _sets_none(result: Any, names: tuple[str, ...]) -> bool:
    """Whether `result` leaves each of `names` unset (None, or UNSET)."""
    for name in names:
        value = getattr(result, name)
        if value is not None and value is not msgspec.UNSET:
            return False
    return True


def _head(method: str, server_info: Implementation, cache: CachePolicy) -> _Head:
    fields: dict[str, Any] = {
        "resultType": "complete",
        "_meta": {SERVER_INFO_KEY: msgspec.to_builtins(server_info)},
    }
    if method in CACHEABLE:
        fields["ttlMs"], fields["cacheScope"] = cache.for_method(method)
    return server_info, cache, _encode(fields)[1:-1]
