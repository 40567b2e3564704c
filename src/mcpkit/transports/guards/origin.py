"""Which Origin and Host headers an HTTP endpoint serves (the Streamable HTTP one, the legacy
HTTP+SSE one, the routes beside them), as a policy built from settings (spec: basic/transports,
"Security Warning": validate Origin against DNS rebinding)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from mcpkit._asgi import Headers, memo_short, quote_header, values_of

__all__ = [
    "LOOPBACK_NAMES",
    "OriginPolicy",
    "is_loopback_bind",
    "normalized_origin",
    "origin_problem",
    "values_problem",
]

#: The names a local client puts in Host and Origin for a server bound to loopback.
LOOPBACK_NAMES: Final = ("localhost", "127.0.0.1", "[::1]")

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# RFC 3986 section 3.2: an IP literal in brackets or a reg-name, then an optional port; the
# text is lower-cased first. No userinfo, no zone id, no empty port: a browser sends none.
_AUTHORITY: Final = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::([0-9]{1,5}))?")
_SCHEME: Final = re.compile(r"[a-z][a-z0-9+.-]*")
# A host name is at most 253 characters; anything much longer is refused unparsed.
_MAX_TEXT: Final = 512


def is_loopback_bind(host: str) -> bool:
    """Whether a server bound to `host` is reachable only from this machine (protection is then
    on by default: a local server is what DNS rebinding attacks)."""
    name = host.strip().lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def _ascii_lower(value: bytes) -> str | None:
    """A header value as lower-case text without surrounding whitespace; None if not ASCII or
    longer than any origin or host could be."""
    if len(value) > _MAX_TEXT or not value.isascii():
        return None
    return value.decode("ascii").strip(" \t").lower()


def _authority(text: str) -> tuple[str, int | None] | None:
    """`host[:port]` split, an IPv6 literal in its compressed form; None if malformed."""
    match = _AUTHORITY.fullmatch(text)
    if match is None:
        return None
    host, port_text = match.groups()
    if host.startswith("["):
        try:
            host = f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    port = None if port_text is None else int(port_text)
    if port is not None and port > 65535:
        return None
    return host, port


def _origin(text: str) -> str | None:
    """A serialized origin (RFC 6454 section 6.2) as `scheme://host[:port]`, with the default
    port of http and https made explicit so equal origins compare equal; None if malformed."""
    if text == "null":
        return text
    scheme, sep, rest = text.partition("://")
    parsed = _authority(rest) if sep and _SCHEME.fullmatch(scheme) else None
    if parsed is None:
        return None
    host, port = parsed
    port = _DEFAULT_PORTS.get(scheme) if port is None else port
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


@memo_short
def _origin_of(value: bytes) -> str | None:
    """One Origin header's value, normalized; None if malformed."""
    text = _ascii_lower(value)
    return None if text is None else _origin(text)


def normalized_origin(value: bytes) -> str | None:
    """An Origin header's value as `scheme://host:port`, lower-case with the default port of
    http and https explicit, so that equal origins compare equal; None if malformed."""
    return _origin_of(value)


@memo_short
def _host_of(value: bytes) -> tuple[str, int | None] | None:
    """One Host header's value as name and port; None if malformed."""
    text = _ascii_lower(value)
    return None if text is None else _authority(text)


def _setting_origins(entries: Iterable[str]) -> set[str]:
    origins: set[str] = set()
    for entry in entries:
        text = _ascii_lower(entry.encode("utf-8", "replace").removesuffix(b"/"))
        origin = None if text is None else _origin(text)
        if origin is None:
            raise ValueError(
                f"allowed_origins entry {entry!r} is not an origin: write scheme://host[:port], "
                "e.g. https://app.example.com or http://localhost:3000"
            )
        origins.add(origin)
    return origins


def _setting_hosts(entries: Iterable[str]) -> tuple[set[str], set[str]]:
    """The `host:port` entries, and the bare names (any port)."""
    hosts: set[str] = set()
    any_port: set[str] = set()
    for entry in entries:
        text = _ascii_lower(entry.encode("utf-8", "replace"))
        parsed = None if text is None else _authority(text)
        if parsed is None:
            raise ValueError(
                f"allowed_hosts entry {entry!r} is not a host: write host or host:port, "
                "e.g. mcp.example.com or [::1]:8000"
            )
        if parsed[1] is None:
            any_port.add(parsed[0])
        else:
            hosts.add(f"{parsed[0]}:{parsed[1]}")
    return hosts, any_port


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """The Origin and Host headers a server accepts; build one with `for_bind`.

    `origins` are normalized serialized origins, matched exactly; `any_port_origins` are
    `scheme://host` prefixes matched on any port. `hosts` are `host:port` entries (that port
    only) and `any_port_hosts` bare names. `check_host` is off when no Host list applies (a
    public bind without `allowed_hosts`): behind a proxy the Host is what the deployment
    names; `mcpkit run` says so when it starts (set `allowed_hosts` to check it).
    """

    enabled: bool
    origins: frozenset[str] = frozenset()
    any_port_origins: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    any_port_hosts: frozenset[str] = frozenset()
    check_host: bool = False

    @classmethod
    def for_bind(
        cls,
        host: str,
        port: int | None = None,
        *,
        allowed_origins: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
        dns_rebinding_protection: bool | None = None,
    ) -> OriginPolicy:
        """The policy of a server bound to `host` and `port` (None when the app cannot know it:
        loopback names are then allowed on any port). Protection is on unless
        `dns_rebinding_protection=False`, whatever the bind: a browser's Origin must be a
        loopback origin of a loopback bind or in `allowed_origins` (none by default for any
        other bind), and a request without Origin (not a browser) goes on. The Host is
        checked where a list applies: loopback names for a loopback bind, `allowed_hosts`.
        Raises ValueError naming a bad entry."""
        origins = _setting_origins(allowed_origins)
        hosts, any_port_hosts = _setting_hosts(allowed_hosts)
        loopback = is_loopback_bind(host)
        enabled = True if dns_rebinding_protection is None else dns_rebinding_protection
        any_port_origins: set[str] = set()
        if loopback:
            for name in {*LOOPBACK_NAMES, *_bind_name(host)}:
                if port is None:
                    any_port_hosts.add(name)
                    any_port_origins.update(f"{scheme}://{name}" for scheme in _DEFAULT_PORTS)
                else:
                    hosts.add(f"{name}:{port}")
                    origins.update(f"{scheme}://{name}:{port}" for scheme in _DEFAULT_PORTS)
        return cls(
            enabled=enabled,
            origins=frozenset(origins),
            any_port_origins=frozenset(any_port_origins),
            hosts=frozenset(hosts),
            any_port_hosts=frozenset(any_port_hosts),
            check_host=bool(hosts or any_port_hosts),
        )

    def allows_origin(self, value: bytes) -> bool:
        """Whether one Origin header's value is allowed (`null` only when listed)."""
        origin = _origin_of(value)
        if origin is None:
            return False
        return origin in self.origins or origin.rpartition(":")[0] in self.any_port_origins

    def host_problem(self, value: bytes) -> int | None:
        """None if one Host header's value is served here, else the status to refuse it with:
        400 when it is not `host[:port]` (RFC 9112 section 3.2), 421 when it names another
        server (RFC 9110 section 7.4: the request was meant for an authority we do not serve)."""
        parsed = _host_of(value)
        if parsed is None:
            return 400
        name, port = parsed
        if name in self.any_port_hosts or f"{name}:{port}" in self.hosts:
            return None
        # DNS rebinding cannot forge the name, which is the whole defence; a Host without a
        # port is judged by its name alone (a client behind a port mapping may omit it).
        if port is None and any(host.rpartition(":")[0] == name for host in self.hosts):
            return None
        return 421


def _bind_name(host: str) -> tuple[str, ...]:
    """The bind address as clients write it in Host (127.0.0.2 binds are loopback too)."""
    try:
        address = ipaddress.ip_address(host.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return ()
    return (f"[{address.compressed}]",) if address.version == 6 else (address.compressed,)


def origin_problem(policy: OriginPolicy, headers: Headers) -> tuple[int, str] | None:
    """None if the Origin and Host headers may go on, else the status and what was wrong."""
    return values_problem(policy, values_of(headers, b"origin"), values_of(headers, b"host"))


def values_problem(
    policy: OriginPolicy, origins: list[bytes], hosts: list[bytes]
) -> tuple[int, str] | None:
    """`origin_problem` given the values of the Origin and Host headers."""
    if not policy.enabled:
        return None
    # A missing Origin is a non-browser client: DNS rebinding needs a browser, which sends it.
    if len(origins) > 1:
        return 403, "more than one Origin header: a browser sends exactly one"
    if origins and not policy.allows_origin(origins[0]):
        return 403, (
            f"Origin {quote_header(origins[0])} is not allowed (DNS rebinding protection): "
            "add it to the server's allowed_origins setting"
        )
    if not policy.check_host:
        return None
    if len(hosts) != 1:
        return 400, "a request needs exactly one Host header (RFC 9112 section 3.2)"
    status = policy.host_problem(hosts[0])
    if status == 400:
        return 400, f"Host {quote_header(hosts[0])} is not host[:port] (RFC 9112 section 3.2)"
    if status == 421:
        return 421, (
            f"Host {quote_header(hosts[0])} is not served here (DNS rebinding protection): "
            "add it to the server's allowed_hosts setting (`mcpkit run --allowed-host`)"
        )
    return None
