"""`DeclaredCapabilities`: what a server declares (`initialize`, `server/discover`), an object
the server holds. Worked out from its settings, its catalog and the servers mounted in it, and
again only when one of them changed: the catalog counts every such change (of its registries,
extensions, skills and completers, a mounted server's as its parent's), and the server counts
its settings replaced (`core.ServerCore.__setattr__`). Apart from `core` because none of it is
on a call's way: a session asks once, at its start. What it needs of the server is
`DeclaringHost`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mcpkit.server.catalog.declared_capabilities import declared_capabilities
from mcpkit.types import ServerCapabilities

if TYPE_CHECKING:
    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.server.catalog.catalog import Catalog
    from mcpkit.server.catalog.declared_capabilities import Feature
    from mcpkit.server.catalog.mounts import Mount

__all__ = ["DeclaredCapabilities", "DeclaringHost", "with_mounted"]


class DeclaringHost(Protocol):
    """What `DeclaredCapabilities` reads of its server (`mcpkit.Server`) when what it
    declares changed."""

    @property
    def features(self) -> frozenset[Feature] | None: ...

    @property
    def auth(self) -> ProtectedResource | None: ...

    @property
    def mounts(self) -> tuple[Mount[Any], ...]: ...

    @property
    def serves_tasks(self) -> bool: ...

    @property
    def extension_settings(self) -> dict[str, dict[str, Any]]: ...

    def completable(self) -> bool: ...


def with_mounted(server: DeclaringHost) -> Iterator[DeclaringHost]:
    """`server`, then every server mounted in it, at any depth, in the order mounted.

    A mounted server's extensions are the parent's to declare: a client talks to the parent
    only, and calls reaching the mounted server's extension methods go through it."""
    yield server
    for mount in server.mounts:
        yield from with_mounted(mount.server)


class DeclaredCapabilities:
    """The capabilities `host` declares, with `catalog` its own catalog."""

    def __init__(self, host: DeclaringHost, catalog: Catalog) -> None:
        self._host = host
        self._catalog = catalog
        #: The answer, after the catalog's count of changes it was worked out at (-1: not yet).
        self._known: tuple[int, ServerCapabilities] = (-1, ServerCapabilities())

    def capabilities(self) -> ServerCapabilities:
        """What this server declares at initialize (inferred from registrations by default)."""
        # Asked for every session: worked out again only when what it depends on changed.
        known = self._known
        count = self._catalog.changes.count
        if known[0] == count:
            return known[1]
        capabilities = self._worked_out()
        self._known = (count, capabilities)
        return capabilities

    def _extension_sets(self) -> Iterable[dict[str, dict[str, Any]]]:
        """The declared extensions of this server and of those mounted in it (each dict is
        replaced, never changed, by `declare_extension`)."""
        # The host's own from its catalog (the same dict), the mounted servers' from each
        # server: a mounted server's catalog is not the parent's.
        found: tuple[dict[str, dict[str, Any]], ...] = (self._catalog.extension_settings,)
        for mount in self._host.mounts:
            found += tuple(server.extension_settings for server in with_mounted(mount.server))
        return found

    def _worked_out(self) -> ServerCapabilities:
        """The capabilities worked out anew from the host's settings and the catalog (which
        already merges the mounted servers' registries). Called only when the catalog's
        count of changes moved (`capabilities`)."""
        host = self._host
        tasks: Literal["", "tools", "tools+list"] = ""
        if host.serves_tasks:
            # Declared for tools/call alone, the one request this server runs as a task
            # (basic/utilities/tasks, "Server Capabilities"). tasks/list only where
            # requestors are told apart ("Task Isolation and Access Control"): without
            # auth every client would be one requestor, and would list the others' tasks.
            tasks = "tools+list" if host.auth is not None else "tools"
        return declared_capabilities(
            host.features,
            self._catalog,
            completable=host.completable,
            tasks=tasks,
            extension_sets=self._extension_sets(),
        )
