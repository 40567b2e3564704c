"""Minting tokens: JWT access tokens (RFC 9068 claims iss, sub, aud, client_id, scope, iat, nbf,
exp, jti) signed with the server's key, and opaque refresh tokens rotated within a family."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import AccessRecord, Consent, Store, digest
from mcpkit.auth.metadata import TokenResponse

__all__ = ["Minter", "access_claims"]


class Minter:
    """Issues the token responses of every grant and records what it issued in the store."""

    def __init__(
        self,
        settings: DevServerSettings,
        key: SigningKey,
        store: Store,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._key = key
        self._store = store
        self._clock = clock

    def access_token(self, consent: Consent, issuer: str, family: str | None) -> str:
        now = int(self._clock())
        claims = access_claims(consent, issuer, now, self._settings.access_token_ttl)
        jti = claims["jti"]
        token = self._key.sign_access_token(claims)
        record = AccessRecord(consent, jti, issuer, now, claims["exp"], family)
        self._store.access.put(digest(token), record)
        return token

    def respond(
        self, consent: Consent, issuer: str, *, refresh: bool, family_id: str | None = None
    ) -> tuple[TokenResponse, str | None]:
        """A token response for `consent`: an access token, and a refresh token when `refresh`
        (in a new family unless `family_id` names one). Also the family's id."""
        refresh_token = None
        if refresh:
            if family_id is None:
                expires = self._clock() + self._settings.refresh_token_ttl
                family_id = self._store.new_family(consent, expires)
            family = self._store.families.get(family_id)
            assert family is not None  # a rotated family was looked up just before
            refresh_token = secrets.token_urlsafe(32)
            self._store.rotate(family_id, family, digest(refresh_token))
        response = TokenResponse(
            access_token=self.access_token(consent, issuer, family_id),
            token_type="Bearer",
            expires_in=self._settings.access_token_ttl,
            refresh_token=refresh_token,
            scope=" ".join(consent.scopes) if consent.scopes else None,
        )
        return response, family_id


def access_claims(consent: Consent, issuer: str, now: int, ttl: int) -> dict[str, Any]:
    """The RFC 9068 claims of an access token for `consent`, issued at `now` for `ttl` s."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": consent.subject,
        "aud": consent.resource,
        "client_id": consent.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(16),
    }
    if consent.scopes:
        claims["scope"] = " ".join(consent.scopes)
    return claims
