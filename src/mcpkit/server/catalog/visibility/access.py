"""Per-item scopes (docs/auth.md, "Protecting a server"): which tools, resources, templates and
prompts a caller's token lets it see and use. Only a protected HTTP endpoint verifies tokens,
so over stdio and in memory (`ctx.auth` is None) everything is visible and usable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.param_headers import declared_param_headers
from mcpkit.server.catalog.visibility.rules import Kind, decide, shown_by

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.server.catalog.catalog import Catalog
    from mcpkit.stores.component_rules import ComponentRule

__all__ = ["Scoped", "check_access", "param_headers_by_name", "scopes_for", "visible"]


class Scoped(Protocol):
    """A registered item with scopes (`ToolSpec`, `ResourceSpec`, `TemplateSpec`, `PromptSpec`)."""

    @property
    def scopes(self) -> frozenset[str]: ...


S = TypeVar("S", bound=Scoped)


def visible(items: Sequence[S], token: AccessToken | None) -> Sequence[S]:
    """The items `token` grants every scope of (all of them without a token)."""
    # No token: nothing verified one (stdio, memory, an open endpoint), so no scope can
    # be asked of the caller.
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
        # Space-separated, as a scope value is written (RFC 6749, section 3.3).
        missing = " ".join(sorted(item.scopes - token.scopes))
        raise McpError(
            codes.INVALID_PARAMS,
            f"{kind} {name!r} needs scope {missing}, which the access token lacks: get a token "
            "with it",
        )


def scopes_for(
    catalog: Catalog, method: str, target: str, session_rules: tuple[ComponentRule, ...] = ()
) -> frozenset[str]:
    """The scopes a `method` request on `target` (a name, or a resource URI) needs, for the
    HTTP endpoint to refuse with 403 before the request reaches the server; empty for an item
    the request may not see (hidden by `session_rules`, the rules of the 2025 session it
    belongs to), and for every item while per-request rules exist: those need the request's
    Context, and a 403 would tell a caller they hide an item from that it exists. The handler
    then judges, the rules first (docs/auth.md, "Protecting a server")."""
    visibility = catalog.visibility
    if visibility.request_rules or visibility.rules_below:
        return frozenset()
    found = _item_for(catalog, method, target)
    if found is None:
        return frozenset()
    kind, key, item = found
    if session_rules and not decide(session_rules, kind, key, item):
        # The version the handler serves the session instead, the highest its rules and the
        # server's show (`shown_to`), is the one whose scopes count.
        shown = shown_by(visibility.rules, kind)
        item = next(
            (
                other
                for other in visibility.versions.of(kind, key)
                if (shown is None or shown(key, other)) and decide(session_rules, kind, key, other)
            ),
            None,
        )
        if item is None:
            return frozenset()
    return frozenset(item.scopes)


def _item_for(catalog: Catalog, method: str, target: str) -> tuple[Kind, str, Any] | None:
    """The (kind, key, item) a `method` request on `target` reaches, as its handler finds it."""
    if method == "tools/call":
        tool = catalog.tools.get(target)
        return None if tool is None else ("tool", target, tool)
    if method == "prompts/get":
        prompt = catalog.prompts.get(target)
        return None if prompt is None else ("prompt", target, prompt)
    if method in ("resources/read", "resources/subscribe"):
        resource = catalog.resources.get(target)
        if resource is not None:
            return "resource", target, resource
        for template in catalog.templates:  # the first match serves it (handlers/features)
            if template.template.match(target) is not None:
                return "template", template.wire.uri_template, template
    return None


def param_headers_by_name(catalog: Catalog) -> dict[str, Mapping[str, tuple[str, ...]]]:
    """The arguments each tool `catalog` shows mirrors into `Mcp-Param-{Name}` headers over
    HTTP (2026-07-28 `x-mcp-header`), by path, by the tool's name (an empty mapping for a
    tool that mirrors none): worked out once per change of the tools (`Server.param_headers`),
    each tool's kept on its spec."""
    found: dict[str, Mapping[str, tuple[str, ...]]] = {}
    for name, tool in catalog.tools.entries():
        headers = tool.param_headers
        # Read from the schema once and kept on the spec: every call of the tool over HTTP
        # has its headers checked against them (`transports/http/mirrored`).
        if headers is None:
            headers = tool.param_headers = declared_param_headers(tool.wire.input_schema)
        found[name] = headers
    return found
