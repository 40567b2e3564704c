"""`Mount`: a server mounted in another, and how its names and URIs show in the parent.

Generic in the server it joins (`mcpkit.server.core.ServerCore` holds `Mount[ServerCore]`s),
so that this module names no server: the serving parts a server is built from read its mounts
without importing the server that holds them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Generic, TypeVar

__all__ = ["Mount"]

S = TypeVar("S", covariant=True)

# Kept as they are under a namespace (server/resources, "Common URI Schemes").
_WEB_SCHEMES: Final = frozenset({"http", "https"})


@dataclasses.dataclass(frozen=True, slots=True)
class Mount(Generic[S]):
    """`server` mounted in `parent` under `namespace` (None: names and URIs unchanged);
    what `Server.mounts` and `Server.mounted_in` hold (`mcpkit.server.mount` does the
    mounting)."""

    parent: S
    server: S
    namespace: str | None
    separator: str = "_"

    def name(self, name: str) -> str:
        """A tool or prompt name of `server` as `parent` shows it."""
        return name if self.namespace is None else f"{self.namespace}{self.separator}{name}"

    def uri(self, uri: str) -> str | None:
        """A URI (or URI template) of `server` as `parent` shows it; None if it has no
        scheme to keep (a template that starts with a variable)."""
        if self.namespace is None:
            return uri
        scheme, colon, rest = uri.partition(":")
        if not colon or not _is_scheme(scheme):
            return None
        if scheme.lower() in _WEB_SCHEMES:
            return uri
        # The namespace leads the path (after the authority's `//` where there is one), so
        # the URI keeps the mounted server's own scheme.
        if rest.startswith("//"):
            return f"{scheme}://{self.namespace}/{rest[2:]}"
        return f"{scheme}:{self.namespace}/{rest}"

    def original_uri(self, uri: str) -> str | None:
        """The URI of `server` that `parent` shows as `uri`; None if it shows none such."""
        if self.namespace is None:
            return uri
        scheme, colon, rest = uri.partition(":")
        if not colon or not _is_scheme(scheme):
            return None
        if scheme.lower() in _WEB_SCHEMES:
            return uri
        for lead, back in ((f"//{self.namespace}/", "//"), (f"{self.namespace}/", "")):
            if rest.startswith(lead):
                return f"{scheme}:{back}{rest[len(lead) :]}"
        return None


def _is_scheme(text: str) -> bool:
    # RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", text) is not None
