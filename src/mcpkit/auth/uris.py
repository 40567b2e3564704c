"""The canonical resource URI, one function for the resource server, the client and the
development authorization server.

A token is bound to the MCP server it was issued for by its audience: the client names the
server in the `resource` parameter (RFC 8707), the authorization server writes that into the
token's `aud`, and the server compares `aud` with its own URI (spec: basic/authorization,
"Canonical Server URI" and "Token Audience Binding and Validation"). The three parts must
agree on when two spellings name the same server, or a server configured as
`https://mcp.example.com/mcp/` refuses tokens its own clients were given for
`https://mcp.example.com/mcp`. So they all compare `canonical_resource(...)` of each side.

The normal form is RFC 3986 section 6.2.2 (syntax-based) and 6.2.3 (scheme-based)
normalisation, plus the MCP specification's rule for the trailing slash:

- the scheme and the host in lower case (the spec: accept uppercase, compare lowercase);
- no port when it is the scheme's default (`https://x:443` is `https://x`), none when empty;
- percent-encoded octets with upper-case hex digits, and unreserved characters
  (`A-Z a-z 0-9 - . _ ~`) never percent-encoded (`%7e` is `~`);
- `.` and `..` path segments removed (section 5.2.4);
- no trailing slash: the spec says to use the form without it, so `https://x/mcp/` is
  `https://x/mcp`, and `https://x/` is `https://x`;
- the query kept as given (normalised as the path is), an empty one dropped.

What is not a resource URI is refused with `NotAResourceUri` (a `ValueError`): anything but
an absolute `http` or `https` URI with a host, a fragment (RFC 8707 section 2), user
information (a resource is named, never logged into), a port that is not a number, or
whitespace and control characters.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

__all__ = ["NotAResourceUri", "canonical_resource", "origin"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PERCENT: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
# Space, the C0 controls and DEL: urlsplit quietly strips or keeps them, a URI never has them.
_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f]")


class NotAResourceUri(ValueError):
    """A value that cannot name a protected resource (the message says why)."""


def canonical_resource(uri: str) -> str:
    """`uri` in the one form every spelling of the same resource shares (see the module's
    docstring for the rules); `NotAResourceUri` when it is not an absolute http(s) URI."""
    if _FORBIDDEN.search(uri):
        raise NotAResourceUri(f"{uri!r} has whitespace or control characters")
    if "#" in uri:
        raise NotAResourceUri(f"{uri!r} has a fragment (RFC 8707 section 2)")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise NotAResourceUri(f"{uri!r} is not an absolute http(s) URI")
    if "@" in parts.netloc:
        raise NotAResourceUri(f"{uri!r} has user information")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise NotAResourceUri(f"{uri!r} has a port that is not a number") from None
    if not host:
        raise NotAResourceUri(f"{uri!r} has no host")
    netloc = f"[{host}]" if ":" in host else host  # hostname is lower case, without brackets
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _remove_dot_segments(_normal_percent(parts.path)).rstrip("/")
    query = _normal_percent(parts.query)
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def origin(uri: str) -> str:
    """`scheme://host[:port]` of an http(s) URI, in canonical form (RFC 6454)."""
    parts = urlsplit(canonical_resource(uri))
    return f"{parts.scheme}://{parts.netloc}"


def _normal_percent(text: str) -> str:
    """Percent-encoding normalised (RFC 3986 section 6.2.2.1 and 6.2.2.2): upper-case hex
    digits, unreserved characters decoded."""

    def one(found: re.Match[str]) -> str:
        octet = int(found.group(1), 16)
        return chr(octet) if octet in _UNRESERVED else f"%{found.group(1).upper()}"

    return _PERCENT.sub(one, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for an absolute path (or the empty one)."""
    if "." not in path:
        return path  # the common case: nothing to remove
    out: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out) if out else ""
