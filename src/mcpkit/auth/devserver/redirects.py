"""Which redirect URIs a client may register and use: one policy for every way a client is
known (dynamic registration, a client ID metadata document, a client given in the settings),
checked when it becomes known and again at /authorize: https, http on a loopback host, or a
private-use scheme in reverse domain name form (RFC 8252 section 7.1); then exact match
against the registered ones, except that a loopback redirect URI may name any port (RFC 8252
section 7.3)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

__all__ = ["add_query", "is_acceptable", "matches"]

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})  # urlsplit hostnames
# RFC 8252 section 7.1: a private-use scheme is a reverse domain name (com.example.app), so
# it holds a period; no scheme a browser or the network gives a meaning to does.
_PRIVATE_USE: Final = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")
# Visible ASCII but the backslash: a browser reads `http://evil.example\@127.0.0.1/` as a URL on
# evil.example (WHATWG: `\` ends the authority of http and https URLs) where urlsplit sees
# 127.0.0.1; spaces, controls and non-ASCII are where other parsers differ.
_URI_CHARS: Final = re.compile(r"[\x21-\x5b\x5d-\x7e]+")
# A host as a browser and urlsplit read it alike: DNS labels (no empty one, so no trailing
# dot) or an IPv6 literal; no percent-encoding, which a browser decodes and urlsplit keeps.
_HOST: Final = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")


def _loopback_without_port(uri: str) -> str | None:
    """`uri` with its port removed when it is an http loopback URI, else None."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or (parts.hostname or "") not in _LOOPBACK:
        return None
    host = parts.netloc.rpartition("@")[2]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def matches(given: str, registered: Sequence[str]) -> bool:
    """Whether `given` is one of `registered` (string equality), or a loopback URI that differs
    from a registered loopback URI only in its port; never a URI the policy refuses, however
    it came to be registered."""
    if not is_acceptable(given):
        return False
    if given in registered:
        return True
    bare = _loopback_without_port(given)
    return bare is not None and any(_loopback_without_port(r) == bare for r in registered)


def is_acceptable(uri: str) -> bool:
    """Whether a client may register `uri` (RFC 6749 section 3.1.2, OAuth 2.1 section 2.3.1):
    absolute, no fragment, no userinfo, visible ASCII without a backslash, and https, http on
    a loopback host, or a private-use scheme in reverse domain name form (native apps, RFC
    8252 section 7.1: `com.example.app:/cb`; not `javascript:`, `ftp:`, `ws:`, `blob:`...)."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parts.fragment or "#" in uri or not parts.scheme or len(uri) > 2000:
        return False
    if not _URI_CHARS.fullmatch(uri) or not _plain_authority(parts):
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http":
        return (parts.hostname or "") in _LOOPBACK
    return _PRIVATE_USE.fullmatch(parts.scheme) is not None


def _plain_authority(parts: SplitResult) -> bool:
    """Whether an authority is a host and an optional port only: no userinfo
    (`https://good.example@evil.example/` names evil.example), the host as a browser reads it."""
    host = parts.hostname
    if "@" in parts.netloc or host is None:
        return "@" not in parts.netloc  # no host: a private-use scheme's `com.example.app:/cb`
    if not parts.netloc.startswith("["):
        return _HOST.fullmatch(host) is not None
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def add_query(uri: str, params: dict[str, str]) -> str:
    """`uri` with `params` appended to its query (RFC 6749 section 4.1.2: keep the query the
    client registered)."""
    parts = urlsplit(uri)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
