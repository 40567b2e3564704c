"""What a `ProxyServer` may be given, checked where it is given: its upstream settings (the
target, the upstream transport, the upstream caps and their defaults), the one store it can
use, and what the upstream sessions of 2026-07-28 requests declare. Apart from
`mcpkit.proxy.proxy_server`, which serves requests with them, so that a reader finds every
refusal of a setting, each naming the setting and the fix, in one place.
"""

from __future__ import annotations

from mcpkit.proxy.upstream_channel import UpstreamTarget, check_target, one_server
from mcpkit.stores.url import Stores, check_store_url
from mcpkit.types import (
    ClientCapabilities,
    ClientCapabilitiesElicitation,
    ClientCapabilitiesRoots,
    ClientCapabilitiesSampling,
)

__all__ = [
    "DEFAULT_MAX_MODERN_UPSTREAMS",
    "DEFAULT_MAX_UPSTREAMS",
    "MODERN_CLIENT",
    "check_upstream_settings",
    "refuse_shared_store",
]

#: Upstream sessions open at once (each may be a process): client sessions past it are
#: refused at initialize rather than starting one process more.
DEFAULT_MAX_UPSTREAMS = 32
#: Upstream sessions serving 2026-07-28 requests (`mcpkit.proxy.pool`): also the most calls
#: that may wait for their clients' answers at once.
DEFAULT_MAX_MODERN_UPSTREAMS = 8
#: What the upstream sessions of 2026 requests declare: all a 2026 client can answer through
#: the proxy (each request's own capabilities are checked when the upstream asks).
MODERN_CLIENT = ClientCapabilities(
    sampling=ClientCapabilitiesSampling(tools={}),
    elicitation=ClientCapabilitiesElicitation(form={}, url={}),
    roots=ClientCapabilitiesRoots(),
)


def check_upstream_settings(
    target: UpstreamTarget,
    upstream_transport: str,
    max_upstreams: int,
    max_modern_upstreams: int,
) -> bool:
    """Whether the upstream is an HTTP+SSE endpoint, once the upstream settings are checked:
    each refused, naming the setting, where it is given."""
    check_target(target)
    if upstream_transport not in ("auto", "sse"):
        raise ValueError(
            f"upstream_transport is 'auto' or 'sse' (an HTTP+SSE endpoint), not "
            f"{upstream_transport!r}"
        )
    legacy_sse = upstream_transport == "sse"
    if legacy_sse and not (isinstance(target, str) and one_server(target)):
        raise ValueError(f"upstream_transport='sse' is for an http(s) URL target, not {target!r}")
    if max_upstreams < 1:
        raise ValueError("max_upstreams must be at least 1")
    if max_modern_upstreams < 1:
        raise ValueError("max_modern_upstreams must be at least 1")
    return legacy_sse


def refuse_shared_store(store: str | Stores) -> None:
    """A proxy's sessions are live upstream processes and connections, held by the one
    process that opened them: another process could read a session's record but never
    reach its upstream. So a proxy runs as one process with `memory://`, and says so
    rather than lose sessions behind a balancer."""
    shared = store.shared if isinstance(store, Stores) else check_store_url(store) != "memory"
    if shared:
        url = store.url if isinstance(store, Stores) else store
        raise ValueError(
            f"a proxy cannot use the shared store {url}: each client session is a live "
            "upstream session held by one process, which other processes cannot reach; "
            "run one proxy process with the default memory:// store"
        )
