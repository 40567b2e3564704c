"""What a 2025 session sees when its own rules show again what its server hides
(`ctx.enable_components()` after `server.disable()`, docs/compose.md, "Per session and per
request"): the session's rules come after the server's, as FastMCP's do, so the server's
registries, filtered by its rules for every other request, are read unfiltered for it
(`Registry.unfiltered`), and each component is judged by the server's rules then the
session's. A request of any other session, or of none, reads the registries as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.visibility.rules import Visibility
from mcpkit.stores.component_rules import ComponentRule

__all__ = ["EveryComponent", "Findable", "effective_rules", "every_component", "unlocks"]


class Findable(Protocol):
    """What is looked up in a server: its registries and its visibility rules (a
    `FeatureServer`, a `ServerCore`, or an `EveryComponent`)."""

    @property
    def visibility(self) -> Visibility: ...

    @property
    def tools(self) -> Registry[Any]: ...

    @property
    def prompts(self) -> Registry[Any]: ...

    @property
    def resources(self) -> Registry[Any]: ...

    @property
    def templates(self) -> Registry[Any]: ...


def unlocks(visibility: Visibility, mine: tuple[ComponentRule, ...]) -> bool:
    """Whether a session's rules `mine` may show something the server's rules hide."""
    return bool(visibility.rules) and any(rule.enable for rule in mine)


def effective_rules(
    visibility: Visibility, mine: tuple[ComponentRule, ...]
) -> tuple[ComponentRule, ...]:
    """The rules a session's components are judged by: the server's then its own where its
    own may show what the server hides, else its own alone (the server's registries have
    applied the server's already: the same answer without judging twice)."""
    return (*visibility.rules, *mine) if unlocks(visibility, mine) else mine


@dataclass(frozen=True, slots=True)
class EveryComponent:
    """A server's registries unfiltered, with its visibility rules (a `Findable`)."""

    visibility: Visibility
    tools: Registry[Any]
    prompts: Registry[Any]
    resources: Registry[Any]
    templates: Registry[Any]


def every_component(server: Findable) -> EveryComponent:
    """`server`'s registries read unfiltered (each view kept until its registry changes),
    for a session whose own rules may show what the server hides."""
    return EveryComponent(
        server.visibility,
        server.tools.unfiltered(),
        server.prompts.unfiltered(),
        server.resources.unfiltered(),
        server.templates.unfiltered(),
    )
