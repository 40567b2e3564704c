"""`ComponentRule`: one `enable` or `disable` of a server's tools, resources, templates and
prompts, as plain data, so a session's own rules can be kept on its record and rebuilt by any
process that serves it (the rules themselves are applied by
`mcpkit.server.catalog.visibility.rules`).
"""

from __future__ import annotations

import msgspec

__all__ = ["ComponentRule"]


class ComponentRule(msgspec.Struct, frozen=True, array_like=True):
    """Show (`enable`) or hide the components that match every criterion given: a name (a
    tool's or prompt's name, a resource's URI, a template's URI template) in `names`, a tag in
    `tags`, the version `version`, a kind in `kinds` ("tool", "resource", "template",
    "prompt"). `only` (enable alone): also hide every other component of those kinds."""

    enable: bool
    names: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    version: str | None = None
    kinds: frozenset[str] = frozenset()
    only: bool = False

    def same_selector(self, other: ComponentRule) -> bool:
        """Whether `other` picks exactly the components this one picks."""
        return (self.names, self.tags, self.version, self.kinds) == (
            other.names,
            other.tags,
            other.version,
            other.kinds,
        )
