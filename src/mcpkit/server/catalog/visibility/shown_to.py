"""What one request may see and use of a server's components, beyond the server-wide rules:
the 2025 session's own rules (`ctx.disable_components()`) and the server's per-request rules
(`server.add_visibility_rule`), applied where lists are made and components looked up
(handlers/features.py, and `handlers.mounted_items.route` for a mounted server's components).

Both are judged by the server the client talks to, by the names it shows: a request routed
to a mounted server was judged before it got there. The per-request rules of the servers
mounted in it (at any depth) judge their own components there too, by their own names, with
the request's Context for their server. Without any such rule (the usual case) a request reads
three attributes and allocates nothing. A session changing its own rules is `session_rules`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, Protocol, TypeVar

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.resources import not_found
from mcpkit.server.catalog.views import client_renders_views
from mcpkit.server.catalog.visibility.access import check_access
from mcpkit.server.catalog.visibility.every_component import (
    EveryComponent,
    Findable,
    effective_rules,
    every_component,
    unlocks,
)
from mcpkit.server.catalog.visibility.renames import unknown
from mcpkit.server.catalog.visibility.rules import (
    Component,
    Kind,
    Labelled,
    Visibility,
    decide,
    shown_by,
)
from mcpkit.server.session import ServerSessionHandle
from mcpkit.stores.component_rules import ComponentRule

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.terms import Terms
    from mcpkit.server.core import ServerCore
    from mcpkit.server.session import Peer
    from mcpkit.types import ClientCapabilities

__all__ = [
    "Request",
    "Served",
    "Target",
    "check_routed",
    "hidden",
    "hidden_by_key",
    "key_of",
    "served",
    "seen_by",
    "serves",
    "shown_to",
]


class Request(Protocol):
    """What these rules read of a request's Context (named so, not `Context`, which uses
    this module: `ctx.disable_components()`)."""

    @property
    def server(self) -> ServerCore: ...

    @property
    def session(self) -> Peer: ...

    @property
    def method(self) -> str: ...

    @property
    def terms(self) -> Terms[Any] | None: ...

    @property
    def auth(self) -> AccessToken | None: ...

    @property
    def client_capabilities(self) -> ClientCapabilities: ...

    def derive(self, *, server: ServerCore) -> Request:
        """The same request's Context, for `server` (one mounted in this one's)."""
        ...


S = TypeVar("S", bound=Labelled)
S2 = TypeVar("S2", bound=Findable)

#: A registry's `kind` as `kinds=` names it.
_KINDS: Final[dict[str, Kind]] = {
    "tool": "tool",
    "resource": "resource",
    "resource template": "template",
    "prompt": "prompt",
}


def key_of(kind: Kind, item: Any) -> str:
    """The name a `kind` component is known by: a name, a URI or a URI template."""
    if kind == "resource":
        return str(item.uri)
    if kind == "template":
        return str(item.wire.uri_template)
    return str(item.name)


def _session_rules(visibility: Visibility, ctx: Request) -> tuple[ComponentRule, ...]:
    """The rules the session of `ctx` judges components by (`every_component`)."""
    session = ctx.session
    if type(session) is not ServerSessionHandle or not session.record.components:
        return ()
    return effective_rules(visibility, session.record.components)


def seen_by(server: S2, ctx: Request) -> S2 | EveryComponent:
    """`server`'s registries as the request of `ctx` finds in them: unfiltered where its
    session's rules may show again what the server hides (`every_component`)."""
    session = ctx.session
    if (
        type(session) is ServerSessionHandle
        and unlocks(server.visibility, session.record.components)
        and _judged_here(ctx)
    ):
        return every_component(server)
    return server


def _judged_here(ctx: Request) -> bool:
    """Whether rules are judged at `ctx`'s server: only at the one the client talks to, by
    the names the client sees."""
    return ctx.server.mounted_in is None  # (a mounted server's requests were judged above)


def _allowed(
    visibility: Visibility,
    mine: tuple[ComponentRule, ...],
    ctx: Request,
    kind: Kind,
    item: Any,
) -> bool:
    """Whether every rule lets the request see `item`: the session's own, the server's
    per-request rules, then the mounted servers' it comes from. In that order, so a
    per-request rule (user code) runs only for what the session's rules let through."""
    key = key_of(kind, item)
    if mine and not decide(mine, kind, key, item):
        return False
    rules = visibility.request_rules
    if rules:
        component = Component(kind, key, item.tags, item.version, item)
        if not all(rule(ctx, component) for rule in rules):
            return False
    return not visibility.rules_below or _allowed_below(ctx, kind, key)


def _seen(
    visibility: Visibility, mine: tuple[ComponentRule, ...], ctx: Request, kind: Kind, item: Any
) -> Any | None:
    """What the request of `ctx` sees for the name of `item`, the version its registry lets
    stand for it: `item` itself when every rule lets it through, else (a name registered in
    several versions) the highest other version the server's rules show and every rule lets
    through, so that hiding one version leaves the others; None when none is left."""
    if _allowed(visibility, mine, ctx, kind, item):
        return item
    key = key_of(kind, item)
    shown = shown_by(visibility.rules, kind)
    for other in visibility.versions.of(kind, key):
        if (
            other is not item
            and (shown is None or shown(key, other))
            and _allowed(visibility, mine, ctx, kind, other)
        ):
            return other
    return None


def _allowed_below(ctx: Request, kind: Kind, key: str) -> bool:
    """Whether the servers `key` comes from through mounts (if it does) let the request of
    `ctx` see it, each by its own per-request rules, its own name for it and a Context of
    its own (`docs/compose.md`, "Per session and per request")."""
    server = ctx.server
    # (unfiltered: a session may see what the server's own rules hide, never what a mounted
    # server's per-request rules do)
    registry = _registry_of(server, kind).unfiltered()
    while (origin := registry.origin(key)) is not None:
        source, key = origin
        registry = source.registry
        below = next(
            (m.server for m in server.mounts if _registry_of(m.server, kind) is registry), None
        )
        if below is None:  # (every source is a mount's: `mount.mount_server`)
            return True
        server = below
        visibility = server.visibility
        if visibility.request_rules:
            item = registry.get(key)
            if item is None:  # (not shown there: its parent would not show it either)
                return False
            ctx = ctx.derive(server=server)
            component = Component(kind, key, item.tags, item.version, item)
            if not all(rule(ctx, component) for rule in visibility.request_rules):
                return False
        if not visibility.rules_below:
            return True
    return True


def _registry_of(server: Findable, kind: Kind) -> Registry[Any]:
    if kind == "tool":
        return server.tools
    if kind == "prompt":
        return server.prompts
    return server.resources if kind == "resource" else server.templates


def _judged(visibility: Visibility, mine: tuple[ComponentRule, ...], ctx: Request) -> bool:
    """Whether any rule may hide something from the request of `ctx`, judged at its server."""
    return bool(mine or visibility.request_rules or visibility.rules_below) and _judged_here(ctx)


def shown_to(
    visibility: Visibility, ctx: Request, registry: Registry[Any], items: Sequence[S]
) -> Sequence[S]:
    """The `items` of `registry` the request of `ctx` may see."""
    mine = _session_rules(visibility, ctx)
    if not _judged(visibility, mine, ctx):
        return items
    kind = _KINDS[registry.kind]
    seen = (_seen(visibility, mine, ctx, kind, item) for item in items)
    return [item for item in seen if item is not None]


def _as_seen(visibility: Visibility, ctx: Request, kind: Kind, item: Any) -> Any | None:
    """The version of `item`'s name the request of `ctx` sees (`_seen`), `item` when no rule
    may hide anything from it; None when it sees none."""
    mine = _session_rules(visibility, ctx)
    if not _judged(visibility, mine, ctx):
        return item
    return _seen(visibility, mine, ctx, kind, item)


def hidden(visibility: Visibility, ctx: Request, kind: Kind, item: Any) -> bool:
    """Whether the `kind` component `item` is hidden from the request of `ctx`, no version of
    its name left to it."""
    return _as_seen(visibility, ctx, kind, item) is None


def hidden_by_key(visibility: Visibility, ctx: Request, registry: Registry[Any], key: str) -> bool:
    """Whether the component `key` of `registry` is hidden from the request of `ctx` (False
    for an unknown one, which its handler refuses as such)."""
    item = registry.get(key)
    return item is not None and hidden(visibility, ctx, _KINDS[registry.kind], item)


def check_routed(server: ServerCore, ctx: Request, params: Any) -> None:
    """Refuse, as an unknown one, a component of a mounted server that the request of `ctx`
    may not use (`handlers.mounted_items.route`, before it hands the request on)."""
    visibility = server.visibility
    if not _judged(visibility, _session_rules(visibility, ctx), ctx):
        return
    found_in = seen_by(server, ctx)
    method = ctx.method
    if method in ("tools/call", "prompts/get"):
        kind: Kind = "tool" if method == "tools/call" else "prompt"
        registry: Registry[Any] = found_in.tools if kind == "tool" else found_in.prompts
        item = registry.get(params.name)
        # In the words used for a name that does not exist: a hidden component must not
        # be told apart from a missing one.
        if item is not None and hidden(visibility, ctx, kind, item):
            raise McpError(codes.INVALID_PARAMS, f"Unknown {kind}: {params.name}")
    elif method in ("resources/read", "resources/subscribe"):
        found = _resource_with_variables(found_in, params.uri)
        if found is not None and hidden(visibility, ctx, found[0], found[1]):
            raise not_found(params.uri)
    elif method == "completion/complete":  # (as handlers/completion.py refuses its own)
        ref = params.ref
        prompt = ref.type == "ref/prompt"
        key: str = ref.name if prompt else ref.uri
        if hidden_by_key(visibility, ctx, found_in.prompts if prompt else found_in.templates, key):
            what = "prompt" if prompt else "resource template"
            raise McpError(codes.INVALID_PARAMS, f"Unknown {what}: {key}")


#: What `served` looks up: a tool or prompt by name, a resource by URI (a resource, else the
#: first template matching it), or a resource template by its URI template (as completion
#: names one).
Target = Literal["tool", "prompt", "resource", "resource template"]
_METHOD_TARGETS: Final[dict[str, Target]] = {
    "tools/call": "tool",
    "prompts/get": "prompt",
    "resources/read": "resource",
}
_METHOD_KINDS: Final[dict[str, Kind]] = {
    "tools/call": "tool",
    "prompts/get": "prompt",
    "resources/read": "resource",
}


class Served(NamedTuple):
    """A component a request may use: its kind, its spec, and (a template read by a URI)
    the URI's variables."""

    kind: Kind
    item: Any
    variables: dict[str, str]


def served(
    server: Findable,
    ctx: Request,
    target: Target,
    key: str,
    *,
    required: bool = True,
) -> Served | None:
    """The component `key` names, as `server`'s handler serves it to the request of `ctx`
    before it runs anything: registered, hidden by no rule from this request (nor, a tool
    for views alone, from a client that renders none: MCP Apps), and within its token's
    scopes. Raises the handler's error otherwise: a hidden one is refused as unknown (it was
    never listed), an unknown one as such (naming a removed one's replacement), one beyond
    the token's scopes naming the scope. Not `required` (completion, which goes on to its
    completers when none is registered): None for an unknown one, and a hidden one refused
    in completion's words."""
    visibility = server.visibility
    server = seen_by(server, ctx)
    found: tuple[Kind, Any, dict[str, str]] | None
    if target == "resource":
        found = _resource_with_variables(server, key)
        if found is None:
            raise unknown("resource", key, visibility.tombstones)
        if hidden(visibility, ctx, found[0], found[1]):
            raise not_found(key)
    else:
        kind: Kind = "template" if target == "resource template" else target
        item = _registry_of(server, kind).get(key)
        if item is None and not required:
            return None
        if item is not None:  # (the version this request sees, hidden versions passed over)
            item = _as_seen(visibility, ctx, kind, item)
        if item is None or (kind == "tool" and not _listed_tool(item, ctx)):
            if not required:
                raise McpError(codes.INVALID_PARAMS, f"Unknown {target}: {key}")
            raise unknown(target, key, visibility.tombstones)
        found = (kind, item, {})
    # (After the rules: a scope error would tell the caller that a hidden one exists.)
    check_access(found[1], ctx.auth, target, key)
    return Served(*found)


def _listed_tool(spec: Any, ctx: Request) -> bool:
    """Whether the tool is listed to the client of `ctx`: a tool for views alone only to one
    that renders views (MCP Apps' text-only fallback, docs/apps.md)."""
    ui = spec.ui
    return ui is None or ui.for_model or client_renders_views(ctx.client_capabilities)


def serves(server: ServerCore, ctx: Request, method: str, target: str) -> Served | None:
    """What `server`'s handler of a tools/call, prompts/get or resources/read would serve the
    request of `ctx` for `target` (a name or URI), as it judges before it runs anything
    (`served`): the version of a name this request sees, say; None when it would refuse
    (`ResponseCache` asks before it answers from its store, outside the handler). A proxy's
    items are its upstream's, which judges them: nothing here says it would not (an item of
    None)."""
    if not server.composable:
        return Served(_METHOD_KINDS[method], None, {})
    try:
        return served(server, ctx, _METHOD_TARGETS[method], target)
    except McpError:
        return None


def _resource_with_variables(server: Findable, uri: str) -> tuple[Kind, Any, dict[str, str]] | None:
    """The resource at `uri`, else the first template that matches it with the URI's
    variables (as resources/read finds it)."""
    resource = server.resources.get(uri)
    if resource is not None:
        return "resource", resource, {}
    for template in server.templates.items():
        variables = template.template.match(uri)
        if variables is not None:
            return "template", template, variables
    return None
