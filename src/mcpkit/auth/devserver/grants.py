"""The token endpoint's grants (RFC 6749 section 4, OAuth 2.1): authorization_code with the PKCE
verifier (RFC 7636 section 4.6), refresh_token with rotation and reuse detection (OAuth 2.1
section 4.3.1), and client_credentials (SEP-1046)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Final

from mcpkit.auth.devserver._http import Form, Refused
from mcpkit.auth.devserver.clients import is_confidential, single
from mcpkit.auth.devserver.policy import (
    canonical_resource,
    grant_resource,
    grant_scopes,
    parse_scope,
)
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import Consent, Store, digest
from mcpkit.auth.devserver.tokens import Minter
from mcpkit.auth.metadata import ClientInformation, TokenResponse

__all__ = ["Grants", "check_redemption", "same_resource", "verify_pkce"]

# RFC 7636 section 4.1: code_verifier = 43*128unreserved
_VERIFIER: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _s256(verifier: str) -> str:
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def verify_pkce(verifier: str | None, challenge: str) -> None:
    """RFC 7636 section 4.6: refused unless `verifier` is well formed and hashes (S256) to
    `challenge`."""
    if verifier is None or not _VERIFIER.fullmatch(verifier):
        raise Refused("invalid_grant", "code_verifier is missing or malformed (PKCE)")
    if not secrets.compare_digest(_s256(verifier), challenge):
        raise Refused("invalid_grant", "code_verifier does not match the code_challenge")


def check_redemption(
    form: Form, redirect_uri: str, redirect_uri_given: bool, challenge: str, resource: str
) -> None:
    """A code's redemption (RFC 6749 section 4.1.3): the redirect URI of the authorization
    request again when it named one, the PKCE verifier of its challenge, no other resource."""
    given = single(form, "redirect_uri")
    if (redirect_uri_given or given is not None) and given != redirect_uri:
        raise Refused("invalid_grant", "redirect_uri differs from the authorization request")
    verify_pkce(single(form, "code_verifier"), challenge)
    same_resource(single(form, "resource"), resource)


def same_resource(requested: str | None, resource: str) -> None:
    """RFC 8707 section 2.2: a token request may name the resource again, but no other."""
    if requested is not None and canonical_resource(requested) != resource:
        raise Refused("invalid_target", f"this grant is for {resource}, not {requested}")


class Grants:
    """Answers token requests from an authenticated client."""

    def __init__(
        self, settings: DevServerSettings, store: Store, minter: Minter, clock: Callable[[], float]
    ) -> None:
        self._settings = settings
        self._store = store
        self._minter = minter
        self._clock = clock

    def exchange(
        self, form: Form, client: ClientInformation, issuer: str, origin: str
    ) -> TokenResponse:
        grant_type = single(form, "grant_type")
        allowed = client.grant_types
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            raise Refused("unsupported_grant_type", f"grant_type {grant_type!r} is not served")
        if allowed is not None and grant_type not in allowed:
            raise Refused("unauthorized_client", f"this client may not use {grant_type}")
        if grant_type == "authorization_code":
            return self._code(form, client, issuer)
        if grant_type == "refresh_token":
            return self._refresh(form, client, issuer)
        return self._client_credentials(form, client, issuer, origin)

    def _code(self, form: Form, client: ClientInformation, issuer: str) -> TokenResponse:
        code = single(form, "code")
        record = None if code is None else self._store.codes.get(digest(code))
        if record is None:
            raise Refused("invalid_grant", "the code is unknown: authorize again")
        if record.family is not None:
            # RFC 6749 section 4.1.2: a code used twice revokes what it issued.
            self._store.revoke_family(record.family)
            raise Refused("invalid_grant", "the code was already used: its tokens are revoked")
        if record.expires_at <= self._clock():
            raise Refused("invalid_grant", "the code expired: authorize again")
        if record.consent.client_id != client.client_id:
            raise Refused("invalid_grant", "the code was issued to another client")
        check_redemption(
            form, record.redirect_uri, record.redirect_uri_given, record.challenge,
            record.consent.resource,
        )  # fmt: skip
        refresh = client.grant_types is None or "refresh_token" in client.grant_types
        # A family even without a refresh token, so that a reused code can revoke the token.
        expires = self._clock() + self._settings.refresh_token_ttl
        record.family = self._store.new_family(record.consent, expires)
        response, _ = self._minter.respond(
            record.consent, issuer, refresh=refresh, family_id=record.family
        )
        return response

    def _refresh(self, form: Form, client: ClientInformation, issuer: str) -> TokenResponse:
        token = single(form, "refresh_token")
        hashed = digest(token or "")
        family_id = self._store.refresh.get(hashed) if token else None
        family = None if family_id is None else self._store.families.get(family_id)
        if family_id is None or family is None or family.revoked:
            raise Refused("invalid_grant", "the refresh token is unknown or revoked")
        if family.consent.client_id != client.client_id:
            raise Refused("invalid_grant", "the refresh token was issued to another client")
        if family.refresh != hashed:
            # A rotated token came back: someone holds a copy. End the whole family.
            self._store.revoke_family(family_id)
            raise Refused("invalid_grant", "the refresh token was already used: family revoked")
        now = self._clock()
        if family.expires_at <= now:
            raise Refused("invalid_grant", "the refresh token expired: authorize again")
        same_resource(single(form, "resource"), family.consent.resource)
        scopes = parse_scope(single(form, "scope")) or family.consent.scopes
        if not set(scopes) <= set(family.consent.scopes):
            raise Refused("invalid_scope", "a refresh may narrow the scopes, never widen them")
        family.expires_at = now + self._settings.refresh_token_ttl
        consent = Consent(client.client_id, family.consent.subject, scopes, family.consent.resource)
        response, _ = self._minter.respond(consent, issuer, refresh=True, family_id=family_id)
        return response

    def _client_credentials(
        self, form: Form, client: ClientInformation, issuer: str, origin: str
    ) -> TokenResponse:
        if not is_confidential(client):
            raise Refused("unauthorized_client", "client_credentials needs a confidential client")
        consent = Consent(
            client_id=client.client_id,
            subject=client.client_id,  # RFC 9068 section 2.2: no resource owner, the client
            scopes=grant_scopes(self._settings, single(form, "scope"), client),
            resource=grant_resource(self._settings, single(form, "resource"), origin),
        )
        response, _ = self._minter.respond(consent, issuer, refresh=False)
        return response
