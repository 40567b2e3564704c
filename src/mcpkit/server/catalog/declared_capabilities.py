"""The capabilities a `Server` declares at initialize, from the features it has: one shared
`ServerCapabilities` per set of features (`declared_capabilities` chooses the set, and adds
the skills and other extensions; `Server.capabilities` keeps the answer while it holds).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

import msgspec

from mcpkit.server.catalog.calling.tool_limits import keeps_overflow
from mcpkit.server.catalog.skills import with_skills
from mcpkit.types import ServerCapabilities

if TYPE_CHECKING:
    from mcpkit.server.catalog.catalog import Catalog

__all__ = ["Feature", "capabilities_for", "declared_capabilities"]

#: A feature a server may declare (`Server(features=...)`).
Feature = Literal["tools", "resources", "prompts", "completions", "logging"]


#: What each feature declares with it. Every list may change (a tool registered while serving),
#: so listChanged is always declared; resources also take subscriptions (server/resources,
#: "Capabilities"). Copied per set, never handed out: it is a template.
_CAPABILITY_FLAGS: dict[str, dict[str, bool]] = {
    "tools": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "prompts": {"listChanged": True},
    "logging": {},
    "completions": {},
}


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


def declared_capabilities(
    features: frozenset[Feature] | None,
    catalog: Catalog,
    *,
    completable: Callable[[], bool],
    tasks: Literal["", "tools", "tools+list"],
    extension_sets: Iterable[Mapping[str, dict[str, Any]]],
) -> ServerCapabilities:
    """What a server declares: `features`, or by default each that `catalog` has something
    of (its registries show the mounted servers' entries too; `completable` says whether
    anything, here or mounted, can be completed), with `tasks` (`capabilities_for`); the
    skills extension where the catalog serves skills; and the extensions of
    `extension_sets`, the first (the server's own) winning over those after it."""
    if features is None:
        present = {
            "logging": True,  # any handler may call ctx.log(), whatever was registered
            "tools": len(catalog.tools) > 0,
            "resources": len(catalog.resources) + len(catalog.templates) > 0
            or keeps_overflow(catalog.tools.items()),  # (its links are read as resources)
            "prompts": len(catalog.prompts) > 0,
            "completions": completable(),
        }
        features = frozenset(cast(Feature, name) for name, has in present.items() if has)
    declared = with_skills(capabilities_for(features, tasks), catalog.skills)
    extensions: dict[str, Any] = {}
    # Applied last to first, so the first set's (the server's own) settings land last and win.
    for settings in reversed(list(extension_sets)):
        extensions.update(settings)
    if not extensions:
        return declared
    return msgspec.structs.replace(
        declared, extensions={**(declared.extensions or {}), **extensions}
    )
