"""The one check of an MCP endpoint's URL, made before any connection is tried, so a typo is
one clear `InvalidUrl` naming the part at fault rather than a refused connection, a wait for
an answer that cannot come, or another library's message about something else."""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

from mcpkit.errors import InvalidUrl

__all__ = ["check_endpoint_url", "looks_like_url"]

# The transports a URL can name: Streamable HTTP (and the legacy SSE one), over TLS or not.
_SCHEMES: Final = ("http", "https")
# Whitespace and control characters: never part of a URL (RFC 3986, section 2), and a sign
# that two arguments ran together or a line ending came along.
_NOT_IN_URL: Final = re.compile(r"[\x00-\x20\x7f]")
# At most five digits (65535 is the highest port): a longer run is refused before `int()`
# reads it.
_PORT: Final = re.compile(r"[0-9]{1,5}")


def looks_like_url(target: str) -> bool:
    """Whether a string target is meant as a URL (`scheme://...`, one word), not a command."""
    # Any scheme counts (`ws://`, `stdio+x://`), so a URL of a transport mcpkit does not
    # speak is refused as a URL by `check_endpoint_url`, not run as a command.
    scheme, sep, _ = target.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").isalnum()


def check_endpoint_url(url: str) -> None:
    """Raise `InvalidUrl` unless `url` is an http(s) URL with a host and a usable port.

    The checks go from the whole to its parts (characters, scheme, host, port), so the
    error names the first thing a user would fix. The path is not checked: any path is
    an endpoint's to refuse.
    """
    bad = _NOT_IN_URL.search(url)
    if bad is not None:
        raise InvalidUrl(
            url, "characters", f"{url!r} has {_named(bad.group())} in it, which no URL may hold"
        )
    scheme = url.partition("://")[0]
    # Schemes are case-insensitive (RFC 3986, 3.1): `HTTP://` is fine.
    if scheme.lower() not in _SCHEMES:
        raise InvalidUrl(
            url, "scheme", f"{url!r}: {scheme}:// is not a transport mcpkit speaks; use http(s)://"
        )
    authority = url[len(scheme) + 3 :].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    # The last `@` ends the userinfo (RFC 3986, 3.2.1): a password may hold an `@` too.
    host_port = authority.rpartition("@")[2]
    host, port = _split_host_port(url, host_port)
    if not host:
        raise InvalidUrl(
            url, "host", f"{url!r} names no host; give one, as in http://127.0.0.1:8000/mcp"
        )
    if port is not None and not (_PORT.fullmatch(port) and 1 <= int(port) <= 65535):
        raise InvalidUrl(url, "port", f"{url!r}: the port {port!r} is not a number from 1 to 65535")
    try:
        urlsplit(url)  # what it still refuses (a bracket in the wrong place) is no URL either
    except ValueError as exc:
        raise InvalidUrl(url, "host", f"{url!r} is not a URL: {exc}") from None


def _split_host_port(url: str, host_port: str) -> tuple[str, str | None]:
    """(host, port or None) of `host[:port]` or `[v6]:port`, the IPv6 address checked."""
    if host_port.startswith("["):
        address, closed, rest = host_port[1:].partition("]")
        if not closed:
            raise InvalidUrl(
                url, "host", f"{url!r}: the IPv6 address {host_port!r} has no closing ']'"
            )
        # A zone id (`%eth0`, RFC 6874) follows the address; the address alone is checked.
        try:
            ipaddress.IPv6Address(address.split("%", 1)[0])
        except ValueError:
            raise InvalidUrl(url, "host", f"{url!r}: [{address}] is not an IPv6 address") from None
        if rest and not rest.startswith(":"):
            raise InvalidUrl(url, "host", f"{url!r}: {rest!r} follows the IPv6 address")
        return address, (rest[1:] or None) if rest else None
    # Two colons without brackets: an IPv6 address written bare, whose port cannot be told
    # from its last group.
    if host_port.count(":") > 1:
        raise InvalidUrl(
            url, "host", f"{url!r}: an IPv6 address goes in brackets, as in http://[::1]:8000/mcp"
        )
    host, colon, port = host_port.partition(":")
    if "]" in host_port:
        raise InvalidUrl(url, "host", f"{url!r}: the host {host_port!r} has ']' but no '['")
    return host, (port or None) if colon else None


def _named(char: str) -> str:
    """A bad character as the message names it; repr shows a control character visibly."""
    return "a space" if char == " " else f"the control character {char!r}"
