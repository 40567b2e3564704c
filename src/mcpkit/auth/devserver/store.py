"""What the development authorization server remembers, in memory and bounded: authorization
codes, access tokens (for introspection and revocation) and refresh-token families. Secrets are
kept only as SHA-256 digests; each map evicts its oldest entry when full."""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = [
    "AccessRecord",
    "Bounded",
    "CodeRecord",
    "Family",
    "Consent",
    "SourceBounded",
    "Store",
    "digest",
]

K = TypeVar("K")
V = TypeVar("V")
# Rotated refresh tokens remembered per family to detect reuse (OAuth 2.1 section 4.3.1).
_USED_PER_FAMILY = 64


def digest(secret: str) -> str:
    """The key a code or token is stored under: never the secret itself."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Bounded(Generic[K, V]):
    """A map that forgets its oldest entry when a new one would pass `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class SourceBounded(Generic[K, V]):
    """A map of at most `limit` entries, each put by a source (the client address that asked),
    at most `per_source` of them by one source. A source at its cap forgets its own oldest
    entry; a full map forgets the oldest entry of the source holding the most. So one source
    cannot push out anyone else's entries (1,000 registrations from one address evicted every
    legitimate client, 1,001 /authorize calls a pending code, when one LRU served all)."""

    def __init__(self, limit: int, per_source: int) -> None:
        self.limit = limit
        self.per_source = per_source
        self._items: dict[K, tuple[V, str]] = {}
        self._by_source: dict[str, OrderedDict[K, None]] = {}

    def put(self, key: K, value: V, source: str) -> None:
        self.pop(key)
        mine = self._by_source.setdefault(source, OrderedDict())
        if len(mine) >= self.per_source:
            self.pop(next(iter(mine)))
        elif len(self._items) >= self.limit:
            heaviest = max(self._by_source.values(), key=len)
            self.pop(next(iter(heaviest)))
        mine = self._by_source.setdefault(source, OrderedDict())
        self._items[key] = (value, source)
        mine[key] = None

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        return None if found is None else found[0]

    def pop(self, key: K) -> V | None:
        found = self._items.pop(key, None)
        if found is None:
            return None
        value, source = found
        mine = self._by_source[source]
        del mine[key]
        if not mine:
            del self._by_source[source]
        return value

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class Consent:
    """What a code or token was issued for: the client, the resource owner (`subject`) who
    consented, the scopes and the one resource (the tokens' `aud`, RFC 8707). (Not called a
    grant: `mcpkit.auth.client.Grant` is the client's way of getting a token.)"""

    client_id: str
    subject: str
    scopes: tuple[str, ...]
    resource: str


@dataclass(slots=True)
class CodeRecord:
    """An authorization code: its consent, the PKCE challenge (S256), the redirect URI it was
    sent to (and whether the request named it), and, once redeemed, the family it started."""

    consent: Consent
    challenge: str
    redirect_uri: str
    redirect_uri_given: bool
    expires_at: float
    family: str | None = None


@dataclass(slots=True)
class Family:
    """The tokens one authorization produced, rotated together: revoking it (a reused code or
    refresh token, a revocation request) ends every token in it."""

    consent: Consent
    expires_at: float
    refresh: str | None = None  # digest of the one valid refresh token
    used: list[str] = field(default_factory=lambda: [])  # digests of rotated ones
    revoked: bool = False


@dataclass(slots=True)
class AccessRecord:
    """An issued access token, for introspection and revocation."""

    consent: Consent
    jti: str
    issuer: str
    issued_at: int
    expires_at: int
    family: str | None
    revoked: bool = False


class Store:
    """The server's memory: codes, access tokens, refresh families and refresh digests."""

    def __init__(self, max_codes: int, max_tokens: int, max_codes_per_source: int = 100) -> None:
        self.codes: SourceBounded[str, CodeRecord] = SourceBounded(max_codes, max_codes_per_source)
        self.access: Bounded[str, AccessRecord] = Bounded(max_tokens)
        self.families: Bounded[str, Family] = Bounded(max_tokens)
        self.refresh: Bounded[str, str] = Bounded(max_tokens * 2)  # digest -> family id

    def new_family(self, consent: Consent, expires_at: float) -> str:
        """A new family for `consent`; its id."""
        family_id = secrets.token_urlsafe(16)
        self.families.put(family_id, Family(consent, expires_at))
        return family_id

    def live(self, record: AccessRecord, now: float) -> bool:
        """Whether an access token is still good: unexpired, not revoked, and its family (when
        it has one) still known and not revoked."""
        if record.revoked or record.expires_at <= now:
            return False
        if record.family is None:
            return True
        family = self.families.get(record.family)
        return family is not None and not family.revoked

    def rotate(self, family_id: str, family: Family, new_refresh: str) -> None:
        """Make `new_refresh` (a digest) the family's one valid refresh token."""
        if family.refresh is not None:
            family.used.append(family.refresh)
            del family.used[:-_USED_PER_FAMILY]
        family.refresh = new_refresh
        self.refresh.put(new_refresh, family_id)

    def revoke_family(self, family_id: str) -> None:
        """End every token of the family (its access tokens are refused at introspection)."""
        family = self.families.get(family_id)
        if family is not None:
            family.revoked = True
            family.refresh = None
