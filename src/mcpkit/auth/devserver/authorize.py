"""The authorization endpoint (RFC 6749 section 4.1.1, OAuth 2.1): in development mode it
approves every valid request at once and redirects with the code (302, no page), so headless
clients complete the flow. PKCE S256 only (RFC 7636), `resource` (RFC 8707), `state` echoed,
`iss` in the response (RFC 9207)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from mcpkit.auth.devserver._http import Form, Refused
from mcpkit.auth.devserver.clients import Clients, single
from mcpkit.auth.devserver.policy import grant_resource, grant_scopes
from mcpkit.auth.devserver.redirects import add_query, matches
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import CodeRecord, Consent, Store, digest
from mcpkit.auth.metadata import ClientInformation

__all__ = ["Authorizer", "check_code_request", "client_and_redirect"]

logger = logging.getLogger("mcpkit.auth.devserver")

# RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) is 43 characters.
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
# A subject picked by login_hint: visible ASCII, bounded.
_SUBJECT: Final = re.compile(r"[\x21-\x7e]{1,128}")


async def client_and_redirect(clients: Clients, query: Form) -> tuple[ClientInformation, str, bool]:
    """The client an authorization request names, the redirect URI to answer at, and whether
    the request named it; refused (an error page, never a redirect: RFC 6749 section 4.1.2.1)
    for an unknown client or a redirect URI not registered for it."""
    client_id = single(query, "client_id")
    if not client_id:
        raise Refused("invalid_request", "client_id is missing")
    client = await clients.find(client_id)
    if client is None:
        raise Refused("invalid_client", f"unknown client {client_id!r}: register it first")
    registered = client.redirect_uris or []
    redirect_uri = single(query, "redirect_uri")
    if redirect_uri is None:
        if len(registered) != 1:
            raise Refused("invalid_request", "redirect_uri is missing")
        return client, registered[0], False
    if not matches(redirect_uri, registered):
        raise Refused(
            "invalid_request",
            f"redirect_uri {redirect_uri!r} is not registered for this client",
        )
    return client, redirect_uri, True


def check_code_request(query: Form, client: ClientInformation) -> str:
    """The PKCE S256 challenge of an authorization code request (RFC 7636), refused when the
    request is not `response_type=code` with S256, or the client may not use the grant."""
    if single(query, "response_type") != "code":
        raise Refused("unsupported_response_type", 'response_type must be "code"')
    if client.grant_types is not None and "authorization_code" not in client.grant_types:
        raise Refused("unauthorized_client", "this client may not use authorization_code")
    challenge = single(query, "code_challenge")
    method = single(query, "code_challenge_method")
    if method != "S256":  # absent means "plain" (RFC 7636 section 4.3), refused too
        raise Refused("invalid_request", "code_challenge_method must be S256 (PKCE)")
    if challenge is None or not _CHALLENGE.fullmatch(challenge):
        raise Refused("invalid_request", "code_challenge must be an S256 challenge (PKCE)")
    return challenge


class Authorizer:
    """Answers authorization requests with the redirect to send (a code, or an error)."""

    def __init__(
        self,
        settings: DevServerSettings,
        clients: Clients,
        store: Store,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._store = store
        self._clock = clock

    async def authorize(self, query: Form, issuer: str, origin: str, source: str = "?") -> str:
        """The Location to redirect to. Refused (an error page, never a redirect) when the
        client or the redirect URI is not valid: RFC 6749 section 4.1.2.1. `source` (the
        client address) is who the code is counted against."""
        client, redirect_uri, given = await client_and_redirect(self._clients, query)
        state = single(query, "state")
        reply: dict[str, str] = {}
        try:
            reply["code"] = self._issue(query, client, redirect_uri, given, origin, source)
        except Refused as refused:
            reply = {"error": refused.error, "error_description": refused.description}
        if state is not None:
            reply["state"] = state
        reply["iss"] = issuer
        return add_query(redirect_uri, reply)

    def _issue(
        self,
        query: Form,
        client: ClientInformation,
        redirect_uri: str,
        given: bool,
        origin: str,
        source: str,
    ) -> str:
        challenge = check_code_request(query, client)
        consent = Consent(
            client_id=client.client_id,
            subject=self._subject(single(query, "login_hint")),
            scopes=grant_scopes(self._settings, single(query, "scope"), client),
            resource=grant_resource(self._settings, single(query, "resource"), origin),
        )
        # Spec, "Localhost Redirect URI Risks": a real server shows the redirect host to the
        # user; with no page, the log is where a developer sees who got a code.
        logger.info(
            "approved client %s for %s (redirect to %s, resource %s)",
            client.client_id,
            consent.subject,
            urlsplit(redirect_uri).netloc or redirect_uri,
            consent.resource,
        )
        code = secrets.token_urlsafe(32)
        expires = self._clock() + self._settings.code_ttl
        self._store.codes.put(
            digest(code), CodeRecord(consent, challenge, redirect_uri, given, expires), source
        )
        return code

    def _subject(self, hint: str | None) -> str:
        if hint is None or not self._settings.login_hint_selects_subject:
            return self._settings.subject
        if not _SUBJECT.fullmatch(hint):
            raise Refused("invalid_request", "login_hint must be 1 to 128 visible ASCII characters")
        return hint
