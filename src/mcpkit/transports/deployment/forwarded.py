"""The client address behind a reverse proxy the operator trusts (`forwarded_allow_ips`).

Every per-address budget counts the address `checks.client_address` reads from the ASGI
scope. Behind nginx that is nginx's address for every client, so one client filling a budget
(registrations at the authorization front, sessions, listens) fills it for all of them. When
the direct peer is a trusted proxy, `TrustedProxies.apply` puts the client's address there
instead, once per request, before anything reads it:

- the address is the right-most entry of `X-Forwarded-For` that is not itself a trusted proxy:
  each proxy appends the address it got the request from, so the entries right of it were
  written by proxies we trust, and the ones left of it by whoever the client is (never the
  left-most entry: the client writes what it likes there);
- every entry being a trusted proxy, the left-most is the client (a proxy asking itself);
- an entry that is no address (`unknown`, an empty one, a name) where the client should be:
  the proxy nearest to it, which is an address we know, counts as the client;
- a peer that is not a trusted proxy, or no header: the peer, whatever the header says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Final

from mcpkit._asgi import Scope, values_of

__all__ = ["TrustedProxies"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HEADER: Final = b"x-forwarded-for"


def _address(text: str) -> IPAddress | None:
    """`text` as an address (an IPv6 one may be bracketed, either may carry the port some
    proxies append, `203.0.113.5:4711` or `[2001:db8::1]:4711`; an IPv4-mapped one counts as
    its IPv4 address, as a dual-stack socket reports it), or None when it is none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0] if "]" in text else ""
    elif text.count(":") == 1:  # (an IPv6 address has two colons or more)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose `X-Forwarded-For` names the client: addresses and networks (CIDR)."""

    __slots__ = ("_networks",)

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self._networks = tuple(networks)

    @classmethod
    def parse(cls, allowed: Sequence[str]) -> TrustedProxies | None:
        """`forwarded_allow_ips` (such as ["127.0.0.1", "10.0.0.0/8", "::1"]) read, or None
        when empty; an entry that is no address or network raises ValueError naming it."""
        networks: list[IPNetwork] = []
        for entry in allowed:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            except ValueError:
                raise ValueError(
                    f"forwarded_allow_ips: {entry!r} is not an IP address or network: give "
                    "the addresses of the proxies in front of the server, such as 127.0.0.1 "
                    "or 10.0.0.0/8"
                ) from None
        return cls(networks) if networks else None

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self._networks)

    def client(self, peer: str, forwarded_for: Sequence[bytes]) -> str | None:
        """The client's address when `peer` is a trusted proxy that forwarded one (the
        values of `X-Forwarded-For`, in order), else None (the peer is the client)."""
        nearest = _address(peer)
        if nearest is None or not forwarded_for or not self.trusts(nearest):
            return None
        # Several header lines are one list, in order (RFC 9110, section 5.3).
        entries = b",".join(forwarded_for).decode("latin-1").split(",")
        for entry in reversed(entries):
            address = _address(entry)
            if address is None:
                break  # what the client wrote, or a proxy's "unknown": the nearest proxy counts
            nearest = address
            if not self.trusts(address):
                break
        return str(nearest)

    def apply(self, scope: Scope) -> None:
        """Put the forwarded client in `scope["client"]` when the peer is a trusted proxy."""
        peer = scope.get("client")
        if not peer:
            return
        host = self.client(str(peer[0]), values_of(scope.get("headers", ()), _HEADER))
        if host is not None:
            scope["client"] = (host, 0)  # (the client's port is not forwarded)
