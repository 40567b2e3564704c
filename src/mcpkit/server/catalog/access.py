"""Per-item scopes (docs/auth.md, "Protecting a server"): which tools, resources, templates and
prompts a caller's token lets it see and use. Only a protected HTTP endpoint verifies tokens,
so over stdio and in memory (`ctx.auth` is None) everything is visible and usable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.param_headers import declared_param_headers

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.server.catalog.catalog import Catalog

__all__ = ["Scoped", "check_access", "scopes_for", "visible"]


class Scoped(Protocol):
    """A registered item with scopes (`ToolSpec`, `ResourceSpec`, `TemplateSpec`, `PromptSpec`)."""

    @property
    def scopes(self) -> frozenset[str]: ...


S = TypeVar("S", bound=Scoped)


def visible(items: Sequence[S], token: AccessToken | None) -> Sequence[S]:
    """The items `token` grants every scope of (all of them without a token)."""
    if token is None:
        return items
    granted = token.scopes
    return [item for item in items if item.scopes <= granted]


def check_access(item: Scoped, token: AccessToken | None, kind: str, name: str) -> None:
    """Refuse the `kind` ("tool", "resource", "prompt") `name` to a token lacking the item's
    scopes.

    A protected HTTP endpoint refuses such a call with 403 before it reaches the server (the
    client can step up); this is the same rule for a transport that sets `auth` itself."""
    if token is not None and not item.scopes <= token.scopes:
        missing = " ".join(sorted(item.scopes - token.scopes))
        raise McpError(
            codes.INVALID_PARAMS,
            f"{kind} {name!r} needs scope {missing}, which the access token lacks: get a token "
            "with it",
        )


def scopes_for(catalog: Catalog, method: str, target: str) -> frozenset[str]:
    """The scopes a `method` request on `target` (a name, or a resource URI) needs."""
    if method == "tools/call":
        tool = catalog.tools.get(target)
        return frozenset() if tool is None else tool.scopes
    if method == "prompts/get":
        prompt = catalog.prompts.get(target)
        return frozenset() if prompt is None else prompt.scopes
    if method in ("resources/read", "resources/subscribe"):
        resource = catalog.resources.get(target)
        if resource is not None:
            return resource.scopes
        for template in catalog.templates:  # the first match serves it (handlers/features)
            if template.template.match(target) is not None:
                return template.scopes
    return frozenset()


def param_headers_for(catalog: Catalog, tool_name: str) -> Mapping[str, tuple[str, ...]] | None:
    """The arguments tool `tool_name` mirrors into `Mcp-Param-{Name}` headers over HTTP
    (2026-07-28 `x-mcp-header`), by path; None for an unknown tool."""
    tool = catalog.tools.get(tool_name)
    if tool is None:
        return None
    found = tool.param_headers
    if found is None:
        found = tool.param_headers = declared_param_headers(tool.wire.input_schema)
    return found
