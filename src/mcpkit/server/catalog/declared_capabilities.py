"""The capabilities a `Server` declares at initialize, from the features it has: one shared
`ServerCapabilities` per set of features (`Server.capabilities` chooses the set).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import msgspec

from mcpkit.types import ServerCapabilities

__all__ = ["Feature", "capabilities_for"]

#: A feature a server may declare (`Server(features=...)`).
Feature = Literal["tools", "resources", "prompts", "completions", "logging"]


_CAPABILITY_FLAGS: dict[str, dict[str, bool]] = {
    "tools": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "prompts": {"listChanged": True},
    "logging": {},
    "completions": {},
}


@functools.cache
@functools.cache
def capabilities_for(
    features: frozenset[Feature], tasks: Literal["", "tools", "tools+list"] = ""
) -> ServerCapabilities:
    """One ServerCapabilities per set of features (a few at most), shared by the sessions
    that declare it (read only: thousands of HTTP sessions would each hold a copy)."""
    caps: dict[str, Any] = {
        name: dict(_CAPABILITY_FLAGS[name]) for name in features if name in _CAPABILITY_FLAGS
    }
    if tasks:  # basic/utilities/tasks, Server Capabilities
        caps["tasks"] = {"cancel": {}, "requests": {"tools": {"call": {}}}}
        if tasks == "tools+list":
            caps["tasks"]["list"] = {}
    return msgspec.convert(caps, ServerCapabilities)
