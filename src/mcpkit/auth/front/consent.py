"""The consent page the front shows before it sends anyone to the provider (the spec's
confused-deputy defence: the user sees which MCP client asks and where the answer goes), and
the checks that refuse a redirect target made to look like another: internationalized
(punycode) hosts, a metadata document's redirect to another host than its own, a client name
naming a domain the redirect does not go to."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from mcpkit.auth.devserver.cimd import is_metadata_url
from mcpkit.auth.metadata import ClientInformation

__all__ = ["PAGE_HEADERS", "consent_page", "message_page", "redirect_refusal", "redirect_target"]

#: What every page of the front carries: never framed (clickjacking the Allow button), never
#: cached, never referred onwards.
PAGE_HEADERS: Final = (
    (b"content-type", b"text/html; charset=utf-8"),
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_DOMAIN: Final = re.compile(r"(?<![\w.-])((?:[a-z0-9-]+\.)+[a-z]{2,})(?![\w-])", re.IGNORECASE)


def redirect_target(redirect_uri: str) -> str:
    """Where the answer goes, as the consent page names it."""
    parts = urlsplit(redirect_uri)
    host = parts.hostname or ""
    if parts.scheme == "http" and host in _LOOPBACK:
        return f"a program on this computer ({parts.netloc})"
    if parts.scheme not in ("http", "https"):
        return f"an app on this device ({parts.scheme}:)"
    return host


def _within(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def named_domains(name: str) -> list[str]:
    """The domains a client's name reads as, spaces around a dot ignored (`claude. ai` reads
    as `claude.ai` to a person, so it does here)."""
    return [d.lower() for d in _DOMAIN.findall(re.sub(r"\s*\.\s*", ".", name))]


def redirect_refusal(client: ClientInformation, redirect_uri: str) -> str | None:
    """Why the redirect target of `client` may imitate another, or None when it looks like
    what it is. Only web (https) targets are judged: loopback and app schemes stay here."""
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return None
    if not host.isascii() or any(label.startswith("xn--") for label in host.split(".")):
        return (
            f"the redirect host {host!r} uses internationalized (punycode) labels, which can "
            "imitate another name"
        )
    if is_metadata_url(client.client_id):
        home = (urlsplit(client.client_id).hostname or "").lower()
        if not _within(host, home):
            return (
                f"the client's metadata document is on {home} but it redirects to {host}: "
                "a client's redirect must stay on its own host"
            )
    name = client.client_name or ""
    if not name.isascii():
        return "the client's name uses characters outside ASCII, which can imitate another name"
    for domain in named_domains(name):
        if not _within(host, domain):
            return f"the client calls itself {name!r} but redirects to {host}, not {domain}"
    return None


def consent_page(
    *,
    provider: str,
    client: ClientInformation,
    redirect_uri: str,
    scopes: Sequence[str],
    action: str,
    request: str,
    csrf: str,
) -> bytes:
    """The page asking the user whether `client` may sign them in with `provider`."""
    e = html.escape
    name = client.client_name or "An unnamed application"
    where = redirect_target(redirect_uri)
    unchecked = ""
    named = named_domains(name)
    if named and urlsplit(redirect_uri).scheme != "https":
        # A program on this computer (or an app) may call itself anything, and its answer never
        # reaches the web site its name reads as: the page says so rather than "Allow claude.ai".
        name = f"{where}, calling itself {name}"
        unchecked = (
            f"<p><strong>Its name is not checked:</strong> {e(named[0])} is a web address, "
            f"and the answer goes to {e(where)}, not to {e(named[0])}.</p>\n"
        )
    identity = (
        f"its metadata document {e(client.client_id)}"
        if is_metadata_url(client.client_id)
        else f"registered here as {e(client.client_id)}"
    )
    scope_line = f"<p>It asks for: <code>{e(' '.join(scopes))}</code></p>" if scopes else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allow {e(name)}?</title>
<style>body{{font-family:sans-serif;max-width:36em;margin:3em auto}}
code{{word-break:break-all}}</style>
</head><body>
<h1>Allow <q>{e(name)}</q> to use your {e(provider)} sign-in?</h1>
<p>The application is <strong>{e(name)}</strong>, {identity}.</p>
<p>After you sign in with {e(provider)}, you are sent back to
<strong>{e(where)}</strong>: <code>{e(redirect_uri)}</code></p>
{unchecked}{scope_line}<p>Allow only if you started this from that application and you know where
it sends you.</p>
<form method="post" action="{e(action)}">
<input type="hidden" name="request" value="{e(request)}">
<input type="hidden" name="csrf" value="{e(csrf)}">
<button type="submit" name="decision" value="allow">Allow and sign in with {e(provider)}</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>
"""
    return body.encode("utf-8")


def message_page(title: str, text: str) -> bytes:
    """A page saying why the front stops here (never a redirect to a doubtful target)."""
    e = html.escape
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"</head><body><h1>{e(title)}</h1><p>{e(text)}</p></body></html>\n"
    ).encode()
