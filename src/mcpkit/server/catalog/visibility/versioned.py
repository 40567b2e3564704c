"""Several versions of one tool or prompt under one name (`version=`): the registry holds, and
so lists and calls, the highest one the server's rules show, and the others wait beside it.

Registering a second component under a name was refused before versions existed, and still is
unless both it and every one already there have a version, all different; so a server that
never does so sees no change. `server.enable()`/`disable()` choose among the versions: hide
the highest (`disable(version="2")`) and the next one is shown in its place. A per-request
or per-session rule that hides the one standing for the name does the same for its request
alone (`shown_to`). Removing the name removes every version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.visibility.versions import version_rank

__all__ = ["Shown", "Versions"]

#: Whether a registry's entry (key, item) is shown, per kind (`visibility.shown_by`).
Shown = Callable[[str, Any], bool] | None


class Versions:
    """The names of `registries` (kind -> registry) registered in several versions."""

    def __init__(self, registries: Mapping[Any, Registry[Any]]) -> None:  # (kind -> registry)
        self._registries = registries
        #: (kind, key) -> every version of it, in registration order (names with two or more).
        self._all: dict[tuple[str, str], list[Any]] = {}

    def can_add(self, kind: str, key: str, item: Any) -> bool:
        """Whether `item` may be registered as `key`: nothing has that key yet, or it and
        every version there have a version, all different."""
        current = self._registries[kind].own(key)
        if current is None:
            return True
        there = self._all.get((kind, key), [current])
        version = item.version
        return version is not None and all(
            v.version is not None and v.version != version for v in there
        )

    def add(self, kind: str, key: str, item: Any, shown: Shown) -> None:
        """Register `item` as `key` (`Registry.add`'s error when `can_add` says no), the
        highest version `shown` shows standing for the name."""
        registry = self._registries[kind]
        current = registry.own(key)
        if current is None or not self.can_add(kind, key, item):
            registry.add(key, item)
            return
        self._all.setdefault((kind, key), [current]).append(item)
        self._pick(kind, key, shown)

    def of(self, kind: str, key: str) -> list[Any]:
        """Every version of `key`, the highest first (none: a name in one version)."""
        versions = self._all.get((kind, key), [])
        return sorted(versions, key=lambda v: version_rank(v.version), reverse=True)

    def forget(self, kind: str, key: str) -> None:
        """The name `key` is being removed: every version of it goes."""
        self._all.pop((kind, key), None)

    def repick(self, shown_for: Callable[[str], Shown]) -> None:
        """The rules changed: let the highest version each now shows stand for its name."""
        for kind, key in list(self._all):
            self._pick(kind, key, shown_for(kind))

    def _pick(self, kind: str, key: str, shown: Shown) -> None:
        versions = self._all[(kind, key)]
        candidates = [v for v in versions if shown is None or shown(key, v)] or versions
        best = max(candidates, key=lambda v: version_rank(v.version))
        registry = self._registries[kind]
        if registry.own(key) is not best:
            registry.add(key, best, replace=True)
