"""The browser's trip through the front: `/authorize` checks the MCP client's request and shows
the consent page; the consent form sends the user to the provider with the front's own
client; `/callback` takes the provider's code, learns who signed in and gives the MCP client
a code of its own. Each step is bound to the browser that began it (a cookie) and to the one
pending request (`csrf`, the upstream `state`, both single use)."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from mcpkit.auth.devserver._http import Form, Refused
from mcpkit.auth.devserver.authorize import check_code_request, client_and_redirect
from mcpkit.auth.devserver.cimd import is_metadata_url
from mcpkit.auth.devserver.clients import single
from mcpkit.auth.devserver.policy import grant_resource, grant_scopes
from mcpkit.auth.devserver.redirects import add_query
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.devserver.store import digest
from mcpkit.auth.front.client_registry import StoredClients
from mcpkit.auth.front.consent import PAGE_HEADERS, consent_page, message_page, redirect_refusal
from mcpkit.auth.front.front_settings import FrontSettings
from mcpkit.auth.front.leg import UpstreamLeg, UpstreamRefused
from mcpkit.auth.front.state import FrontState, IssuedCode, Pending

__all__ = ["BROWSER_COOKIE", "Answer", "SignIn"]

logger = logging.getLogger("mcpkit.auth.front")

#: The cookie binding a pending sign-in to the browser that saw its consent page.
BROWSER_COOKIE: Final = "mcpkit_front_browser"


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: a page, or a redirect."""

    status: int
    body: bytes = b""
    headers: Sequence[tuple[bytes, bytes]] = ()


def redirect(location: str, status: int = 302) -> Answer:
    headers = ((b"location", location.encode()), (b"cache-control", b"no-store"))
    return Answer(status, b"", headers)


def page(status: int, title: str, text: str) -> Answer:
    return Answer(status, message_page(title, text), PAGE_HEADERS)


def _s256(verifier: str) -> str:
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


class SignIn:
    """The three browser steps of the front."""

    def __init__(
        self,
        settings: FrontSettings,
        policy: DevServerSettings,
        clients: StoredClients,
        state: FrontState,
        leg: UpstreamLeg,
    ) -> None:
        self._settings = settings
        self._policy = policy
        self._clients = clients
        self._state = state
        self._leg = leg

    async def authorize(
        self, query: Form, issuer: str, origin: str, source: str, browser: str
    ) -> Answer:
        """Check the MCP client's request exactly and show the consent page; errors about the
        client or its redirect URI are pages, later ones go back to the client (RFC 6749
        section 4.1.2.1)."""
        client, redirect_uri, given = await client_and_redirect(self._clients, query)
        refusal = redirect_refusal(client, redirect_uri)
        if refusal is not None:
            logger.warning("refused client %s: %s", client.client_id, refusal)
            return page(400, "This application is refused", refusal)
        state = single(query, "state")
        try:
            pending = Pending(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                redirect_uri_given=given,
                state=state,
                challenge=check_code_request(query, client),
                scopes=list(grant_scopes(self._policy, single(query, "scope"), client)),
                resource=grant_resource(self._policy, single(query, "resource"), origin),
                browser=digest(browser),
                csrf=secrets.token_urlsafe(32),
            )
        except Refused as refused:
            if _may_bounce(client.client_id, redirect_uri):
                return page(400, "This request is refused", refused.description)
            reply = {"error": refused.error, "error_description": refused.description}
            return redirect(add_query(redirect_uri, _with_state(reply, state, issuer)))
        handle = self._state.new_handle(source)
        await self._state.put("pending", handle, pending, self._settings.pending_ttl)
        body = consent_page(
            provider=self._leg.provider.name,
            client=client,
            redirect_uri=redirect_uri,
            scopes=pending.scopes,
            action=issuer + self._settings.paths.consent,
            request=handle,
            csrf=pending.csrf,
        )
        return Answer(200, body, PAGE_HEADERS)

    async def consent(self, form: Form, issuer: str, browser: str | None) -> Answer:
        """The user's answer on the consent page: to the provider, or back to the client."""
        handle = single(form, "request") or ""
        pending = await self._state.get("pending", handle, Pending)
        if pending is None:
            return page(400, "This sign-in has ended", "Start again from the application.")
        csrf = single(form, "csrf") or ""
        if (
            browser is None
            or not secrets.compare_digest(digest(browser), pending.browser)
            or not secrets.compare_digest(csrf.encode(), pending.csrf.encode())
            or pending.upstream_secret is not None
        ):
            return page(403, "Refused", "This answer does not come from the page shown.")
        if single(form, "decision") != "allow":
            await self._state.delete("pending", handle)
            reply = {"error": "access_denied", "error_description": "the user refused"}
            return redirect(
                add_query(pending.redirect_uri, _with_state(reply, pending.state, issuer)), 303
            )
        secret = secrets.token_urlsafe(32)
        pending.upstream_secret = digest(secret)
        pending.verifier = secrets.token_urlsafe(48)
        pending.nonce = secrets.token_urlsafe(16)
        await self._state.put("pending", handle, pending, self._settings.pending_ttl)
        provider = self._leg.provider
        url = self._leg.authorization_url(
            issuer + self._settings.paths.callback,
            f"{handle}:{secret}",
            _s256(pending.verifier) if provider.pkce else None,
            pending.nonce,
            pending.resource,
        )
        return redirect(url, 303)

    async def callback(self, query: Form, issuer: str, source: str, browser: str | None) -> Answer:
        """The provider's answer: a code of the front's own for the MCP client."""
        handle, _, secret = (single(query, "state") or "").partition(":")
        pending = await self._state.get("pending", handle, Pending)
        if (
            pending is None
            or pending.upstream_secret is None
            or not secrets.compare_digest(digest(secret), pending.upstream_secret)
        ):
            return page(400, "This sign-in has ended", "Start again from the application.")
        if browser is None or not secrets.compare_digest(digest(browser), pending.browser):
            return page(403, "Refused", "This sign-in was begun in another browser.")
        # Used once: a guess or another browser does not spend it, the real answer does
        # (and only one of two answers arriving at two workers at once).
        if not await self._state.claim("pending", handle, self._settings.pending_ttl):
            return page(400, "This sign-in has ended", "Start again from the application.")
        await self._state.delete("pending", handle)
        code = single(query, "code")
        if code is None:
            why = single(query, "error_description") or single(query, "error") or "no code"
            reply = {"error": "access_denied", "error_description": f"the provider: {why}"}
            return redirect(
                add_query(pending.redirect_uri, _with_state(reply, pending.state, issuer))
            )
        try:
            record = await self._redeem(code, pending, issuer)
        except UpstreamRefused as exc:
            logger.warning("sign-in with %s failed: %s", self._leg.provider.name, exc)
            reply = {"error": "access_denied", "error_description": f"the provider: {exc}"}
            return redirect(
                add_query(pending.redirect_uri, _with_state(reply, pending.state, issuer))
            )
        ours = self._state.new_handle(source)
        await self._state.put("code", ours, record, self._settings.code_ttl)
        reply = _with_state({"code": ours}, pending.state, issuer)
        return redirect(add_query(pending.redirect_uri, reply))

    async def _redeem(self, code: str, pending: Pending, issuer: str) -> IssuedCode:
        assert pending.nonce is not None
        tokens, answer = await self._leg.exchange(
            code,
            issuer + self._settings.paths.callback,
            pending.verifier if self._leg.provider.pkce else None,
            pending.resource,
        )
        subject, claims = await self._leg.subject(answer, tokens, pending.nonce)
        logger.info("%s signed in for client %s", subject, pending.client_id)
        scopes = self._settings.scopes_for(claims, tuple(pending.scopes))
        return IssuedCode(
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            redirect_uri_given=pending.redirect_uri_given,
            challenge=pending.challenge,
            scopes=scopes,
            resource=pending.resource,
            subject=subject,
            upstream=tokens,
        )


def _may_bounce(client_id: str, redirect_uri: str) -> bool:
    """Whether an error at `/authorize` would make the front an open redirector (RFC 9700
    section 4.11.2): anyone may register a client with any web redirect URI, so an error for
    such a client is a page; a metadata document's redirect stays on its own host, and a
    loopback one on the user's computer, so those still go back to the client."""
    if is_metadata_url(client_id):
        return False
    parts = urlsplit(redirect_uri)
    return not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost"))


def _with_state(reply: dict[str, str], state: str | None, issuer: str) -> dict[str, str]:
    if state is not None:
        reply["state"] = state
    return reply | {"iss": issuer}
