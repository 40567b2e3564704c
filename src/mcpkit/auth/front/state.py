"""What the authorization front remembers, in the server's key-value store so that every worker
and host sharing it sees the same: registered clients, pending sign-ins, codes, grants and
refresh tokens. Each entry is sealed (AES-GCM, key derived from the signing key, bound to its
key), kept for a TTL, stored under a digest of its handle, and counted against the bytes its
source may hold: the client address for what comes before a sign-in, the user at the provider
for grants (`user_source`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from typing import Final, TypeVar

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mcpkit.auth._redact import repr_hiding
from mcpkit.auth.devserver._http import Refused
from mcpkit.stores.kv import KeyValueStore, Limit, entry_size

__all__ = [
    "IssuedCode",
    "FrontState",
    "Grant",
    "Pending",
    "UpstreamTokens",
    "UserGrants",
]

_PREFIX: Final = "mcpkit.front:"
_TAG_CHARS: Final = 16
#: The kinds counted against the user at the provider rather than the client address.
_PER_USER: Final = frozenset({"grant", "user"})
#: The kinds made before anyone signed in: besides each address's budget, all of one kind
#: share one pool of the store (its `max_pool_bytes`), past which the address that wrote the
#: longest ago loses its entries of that kind (unfinished work), never everyone their next.
_POOLED: Final = frozenset({"client", "pending", "code"})
R = TypeVar("R", bound=msgspec.Struct)


class UpstreamTokens(msgspec.Struct, kw_only=True):
    """The provider's tokens for one sign-in, only ever kept sealed in the store."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None

    def __repr__(self) -> str:
        return repr_hiding(self, "access_token", "refresh_token")


class Pending(msgspec.Struct, kw_only=True):
    """An authorization request checked and waiting for the user: at the consent page, then
    at the provider. `browser` and `csrf` bind it to the browser that saw the page;
    `upstream_secret`, `verifier` and `nonce` to the one trip to the provider."""

    client_id: str
    redirect_uri: str
    redirect_uri_given: bool
    state: str | None
    challenge: str
    scopes: list[str]
    resource: str
    browser: str
    csrf: str
    upstream_secret: str | None = None
    verifier: str | None = None
    nonce: str | None = None

    def __repr__(self) -> str:
        return repr_hiding(self, "csrf", "verifier")


class IssuedCode(msgspec.Struct, kw_only=True):
    """A code the front gave an MCP client; `grant` is set once it is redeemed (a second
    redemption ends that grant)."""

    client_id: str
    redirect_uri: str
    redirect_uri_given: bool
    challenge: str
    scopes: list[str]
    resource: str
    subject: str
    upstream: UpstreamTokens
    grant: str | None = None


class Grant(msgspec.Struct, kw_only=True):
    """One sign-in's lasting authorization: the generation of its current refresh token
    (None: it has none), and the provider's tokens. Rotation rewrites this one record: a
    refresh token names its grant and generation under a MAC (`FrontState.refresh_token`),
    so that an earlier generation presented again is known for a reused token without a
    record kept for each one."""

    client_id: str
    subject: str
    scopes: list[str]
    resource: str
    upstream: UpstreamTokens
    generation: int | None = None
    revoked: bool = False


class UserGrants(msgspec.Struct, kw_only=True):
    """The grants of one user at the provider, the oldest first (their budget's index)."""

    handles: list[str] = msgspec.field(default_factory=list[str])


class FrontState:
    """Sealed records in a `KeyValueStore`, by kind and handle."""

    def __init__(
        self,
        kv: Callable[[], KeyValueStore],
        secret: bytes,
        max_bytes_per_source: int,
        max_bytes_per_user: int,
    ) -> None:
        self._store = kv  # read at each use: the server's store may be replaced before serving
        self._cipher = AESGCM(secret)
        self._tags = hmac.new(secret, b"source tags", hashlib.sha256).digest()
        self._macs = hmac.new(secret, b"refresh tokens", hashlib.sha256).digest()
        self._max = max_bytes_per_source
        self._max_per_user = max_bytes_per_user

    def refresh_token(self, grant: str, generation: int) -> str:
        """The refresh token of generation `generation` of the grant `grant`."""
        return f"{grant}.{generation}.{self._mac(grant, generation)}"

    def refresh_grant(self, token: str) -> tuple[str, int] | None:
        """The grant and generation a refresh token of this front names; None for anything
        else (its MAC does not hold)."""
        grant, _, rest = token.rpartition(".")
        grant, _, generation = grant.rpartition(".")
        if not generation.isdigit() or len(generation) > 12:
            return None
        if not secrets.compare_digest(self._mac(grant, int(generation)), rest):
            return None
        return grant, int(generation)

    def _mac(self, grant: str, generation: int) -> str:
        data = f"{grant}\n{generation}".encode("utf-8", "surrogatepass")
        mac = hmac.new(self._macs, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def source_tag(self, source: str) -> str:
        """The short tag of a client address that handles and store keys carry: keyed, so
        that a client ID or a token does not tell the address it came from (an unkeyed hash
        of an IPv4 address is undone by trying them all), the same in every worker."""
        grouped = _network(source)
        return hmac.new(self._tags, grouped.encode("utf-8"), hashlib.sha256).hexdigest()[
            :_TAG_CHARS
        ]

    def user_source(self, subject: str) -> str:
        """The source the grants of the user `subject` at the provider are counted against
        (never equal to a client address)."""
        return f"user\n{subject}"

    def new_handle(self, source: str) -> str:
        """A fresh unguessable handle (a code, a token, an id) counted against `source`."""
        return f"{self.source_tag(source)}.{secrets.token_urlsafe(32)}"

    async def put(self, kind: str, handle: str, record: msgspec.Struct, ttl: float) -> None:
        """Keep `record` under `handle` for `ttl` s; refused (429) when the handle's source
        holds its bytes of this kind already."""
        if not await self.fits(kind, handle, record, ttl):
            setting, who = (
                ("max_bytes_per_user", "this user")
                if kind in _PER_USER
                else ("max_bytes_per_source", "this client address")
            )
            raise Refused(
                "temporarily_unavailable",
                f"{who} holds too many {kind} entries: try again later (the front's bound "
                f"is FrontSettings.{setting})",
                status=429,
            )

    async def fits(self, kind: str, handle: str, record: msgspec.Struct, ttl: float) -> bool:
        """`put`, False rather than refused when the source's budget has no room."""
        key, limit = self._where(kind, handle)
        sealed = self._seal(key, msgspec.json.encode(record))
        return await self._store().set(key, sealed, ttl, limit=limit)

    async def note(self, kind: str, handle: str, value: str, ttl: float) -> None:
        """Keep `value` beside `handle` for `ttl` s, sealed: one per handle, so that it needs
        no budget of its own (the handle's record has one)."""
        key = f"{_PREFIX}note:{kind}:{hashlib.sha256(handle.encode()).hexdigest()}"
        await self._store().set(key, self._seal(key, value.encode()), ttl)

    async def noted(self, kind: str, handle: str) -> str | None:
        key = f"{_PREFIX}note:{kind}:{hashlib.sha256(handle.encode()).hexdigest()}"
        sealed = await self._store().get(key)
        try:
            return None if sealed is None else self._open(key, sealed).decode()
        except (InvalidTag, ValueError):
            return None

    async def get(self, kind: str, handle: str, shape: type[R]) -> R | None:
        """The record under `handle`, None when unknown, expired or malformed."""
        try:
            key, _ = self._where(kind, handle)
        except ValueError:
            return None
        sealed = await self._store().get(key)
        if sealed is None:
            return None
        try:
            return msgspec.json.decode(self._open(key, sealed), type=shape)
        except (InvalidTag, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            return None

    async def claim(self, kind: str, handle: str, ttl: float) -> str | None:
        """A marker for the first caller only, None for every other, in every process sharing
        the store: a code, a refresh token or a pending sign-in is used once even when two
        workers are asked at the same moment. (The store's `Limit` is checked and written in
        one step: a second marker under the same prefix does not fit.) `release` the marker
        when the use failed in a way that may be retried."""
        prefix = f"{_PREFIX}once:{kind}:{hashlib.sha256(handle.encode()).hexdigest()}:"
        key = prefix + secrets.token_hex(8)
        limit = Limit(prefix, entry_size(key, b"1"))
        return key if await self._store().set(key, b"1", ttl, limit=limit) else None

    async def release(self, marker: str) -> None:
        """Give back what `claim` took (its marker): the next caller may claim it."""
        await self._store().delete(marker)

    async def mark(self, kind: str, handle: str, ttl: float) -> None:
        """Set a flag on `handle` for `ttl` s that nothing but its expiry clears: what a
        record rewritten from an earlier read could otherwise undo (`marked`). One per
        handle whatever is written, so it needs no bound of its own."""
        await self._store().set(self._mark_key(kind, handle), b"1", ttl)

    async def marked(self, kind: str, handle: str) -> bool:
        return await self._store().get(self._mark_key(kind, handle)) is not None

    def _mark_key(self, kind: str, handle: str) -> str:
        return f"{_PREFIX}mark:{kind}:{hashlib.sha256(handle.encode()).hexdigest()}"

    async def delete(self, kind: str, handle: str) -> None:
        try:
            await self._store().delete(self._where(kind, handle)[0])
        except ValueError:
            return

    def _where(self, kind: str, handle: str) -> tuple[str, Limit]:
        tag, dot, _ = handle.partition(".")
        if not dot or len(tag) != _TAG_CHARS or len(handle) > 256:
            raise ValueError("not a handle of this front")
        hashed = hashlib.sha256(handle.encode("utf-8", "surrogatepass")).hexdigest()
        prefix = f"{_PREFIX}{kind}:{tag}:"
        if kind in _PER_USER:
            return prefix + hashed, Limit(prefix, self._max_per_user)
        pool = f"{_PREFIX}{kind}" if kind in _POOLED else None
        return prefix + hashed, Limit(prefix, self._max, pool)

    def _seal(self, key: str, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._cipher.encrypt(nonce, data, key.encode()))

    def _open(self, key: str, sealed: bytes) -> bytes:
        raw = base64.b64decode(sealed, validate=True)
        return self._cipher.decrypt(raw[:12], raw[12:], key.encode())


def _network(source: str) -> str:
    """What one budget counts: an IPv6 client by its /64 (one subscriber holds a whole /64,
    so counting each address would give it 2**64 budgets), anything else as it is."""
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return source
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
