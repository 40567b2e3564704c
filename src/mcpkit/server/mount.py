"""Composing servers: `Server.mount(other, namespace)` shows another server's tools, resources,
templates and prompts under a namespace, live, and routes requests for them to it.

Names become `namespace + separator + name` (`_` by default: of the characters a tool name may
have, server/tools "Tool Names", the one the LLM APIs that clients pass names to accept too).
URIs keep their scheme and get the namespace as their first segment: `notes://today` becomes
`notes://x/today`, `file:///a` becomes `file://x//a`, `urn:a` becomes `urn:x/a`; http(s) URIs
stay as they are (server/resources, "Common URI Schemes": a client may fetch them itself).

The parent copies nothing: its registries show the mounted server's entries through a source
(`_Source`, `MountedTools`) that renames each as it is read, so a component added to or
removed from the mounted server after mounting shows in the parent at once. A request for a
mounted item is handed to the mounted server under its own name (`route`, in
`handlers.mounted_items`), through that server's middleware, so the mounted server behaves as
it would served alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, TypeVar

import msgspec

from mcpkit.server.catalog.mounted_tools import MountedTools
from mcpkit.server.catalog.mounts import Mount
from mcpkit.server.catalog.prompts import PromptSpec
from mcpkit.server.catalog.registry import MountedSource, Registry
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name
from mcpkit.server.catalog.transforms import ToolTransforms
from mcpkit.server.catalog.uri_template import UriTemplate
from mcpkit.server.catalog.views import with_ui
from mcpkit.server.catalog.visibility.every_component import Findable
from mcpkit.server.context import Context
from mcpkit.server.core import ServerCore

__all__ = ["Mount", "context_for", "followed_uris", "mount_of", "mount_server", "owner_of"]

T = TypeVar("T")

# Characters a tool name may have (server/tools, "Tool Names") that URIs also leave as they
# are (RFC 3986 "unreserved"), so a namespace reads the same in names and in URIs.
_NAMESPACE: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_SEPARATOR: Final = re.compile(r"[A-Za-z0-9_.\-]{0,8}")


# --------------------------------------------------------------- the sources


@dataclasses.dataclass(frozen=True, slots=True)
class _Source(Generic[T]):
    """One registry of the mounted server (prompts, resources or templates) as the parent's
    registry of the same kind reads it: `rewrite_item` gives each entry the key and the
    item the parent shows, or None for one it cannot show. Tools have their own source,
    `MountedTools`, which also applies renames and transforms."""

    mount: Mount[ServerCore]
    registry: Registry[T]
    rewrite_item: Callable[[Mount[ServerCore], str, T], tuple[str, T] | None]

    def rewrite(self, key: str, item: T) -> tuple[str, T] | None:
        """`MountedSource.rewrite`: the entry `key` as the parent shows it."""
        return self.rewrite_item(self.mount, key, item)


def _tool(mount: Mount[ServerCore], name: str, spec: ToolSpec) -> tuple[str, ToolSpec] | None:
    """A mounted tool as the parent shows it: its name namespaced, its view's URI too; None
    when the namespaced name is no valid tool name (server/tools, "Tool Names": too long).

    At mount time such a tool makes the mount fail (`_check_entries`); one added to the
    mounted server later is left out of the parent's list rather than listed with a name
    clients may refuse."""
    shown = mount.name(name)
    try:
        check_tool_name(shown)
    except ValueError:
        return None
    wire = msgspec.structs.replace(spec.wire, name=shown)
    ui = spec.ui
    if ui is not None and ui.resource_uri is not None:
        # Its view is a resource of the mounted server, which the parent shows under the
        # namespaced URI (`_resource`): the tool must name that one, the URI a client can
        # read from the parent.
        view = mount.uri(ui.resource_uri) or ui.resource_uri
        ui = msgspec.structs.replace(ui, resource_uri=view)
        wire = msgspec.structs.replace(wire, meta=with_ui(wire.meta, ui))
    # `plain_wire` is the cached text-only form of the old wire: cleared, so that it is made
    # again from the renamed one.
    return shown, dataclasses.replace(spec, name=shown, wire=wire, ui=ui, plain_wire=None)


def _prompt(mount: Mount[ServerCore], name: str, spec: PromptSpec) -> tuple[str, PromptSpec]:
    """A mounted prompt as the parent shows it: only its name changes (prompt names have no
    syntax of their own to break, so it never fails)."""
    shown = mount.name(name)
    wire = msgspec.structs.replace(spec.wire, name=shown)
    return shown, dataclasses.replace(spec, name=shown, wire=wire)


def _resource(
    mount: Mount[ServerCore], uri: str, spec: ResourceSpec
) -> tuple[str, ResourceSpec] | None:
    """A mounted resource as the parent shows it, at its namespaced URI; None for a URI
    with no scheme to keep. Its function is wrapped so that it is always given a Context of
    the mounted server, whichever server's request reads it."""
    shown = mount.uri(uri)
    if shown is None:
        return None
    wire = msgspec.structs.replace(spec.wire, uri=shown)
    fn = _in_own_context(mount.server, spec.fn, spec.context_param)
    return shown, dataclasses.replace(spec, uri=shown, wire=wire, fn=fn)


def _template(
    mount: Mount[ServerCore], uri: str, spec: TemplateSpec
) -> tuple[str, TemplateSpec] | None:
    """A mounted resource template as the parent shows it: the template is parsed again
    from the namespaced text, since the parent matches URIs against what it shows."""
    shown = mount.uri(uri)
    if shown is None:
        return None
    wire = msgspec.structs.replace(spec.wire, uri_template=shown)
    fn = _in_own_context(mount.server, spec.fn, spec.context_param)
    return shown, dataclasses.replace(spec, template=UriTemplate(shown), wire=wire, fn=fn)


def _in_own_context(
    server: ServerCore, fn: Callable[..., Any], context_param: str | None
) -> Callable[..., Any]:
    """`fn` given a Context of `server` however it is reached: the parent's
    `ctx.read_resource` runs a mounted resource's function itself, with the parent's."""
    if context_param is None:
        return fn

    # Without this, the function would read the parent's Context: its `ctx.server`, state
    # and own resources would be the parent's, not those of the server it was written for.
    def call(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.get(context_param)
        if isinstance(ctx, Context) and ctx.server is not server:
            kwargs[context_param] = context_for(server, ctx)
        return fn(*args, **kwargs)

    return call


def context_for(server: ServerCore, ctx: Context) -> Context:
    """The Context of the same request, for `server` (mounted in `ctx.server`): the same
    caller, session and request id, so progress, logs and questions still reach the
    client that asked, while `ctx.server` is the server the handler belongs to."""
    return ctx.derive(server=server)


# ------------------------------------------------------------------ mounting


def mount_server(
    parent: ServerCore,
    other: ServerCore,
    namespace: str | None,
    separator: str,
    tool_names: Mapping[str, str] | None = None,
    transforms: ToolTransforms | None = None,
) -> Mount[ServerCore]:
    """`parent.mount(other, namespace)`: check it can be done, then do it.

    Every check runs before anything changes (ValueError, TypeError or RuntimeError naming
    the problem): a refused mount leaves both servers as they were, with no half-mounted
    registry to undo."""
    _check_mountable(parent, other, namespace, separator)
    mount = Mount(parent, other, namespace, separator)
    tools = MountedTools(mount, _tool, tool_names, transforms)  # (docs/compose.md)
    tools.check()
    pairs: list[tuple[MountedSource[Any], Registry[Any]]] = [
        (tools, parent.tools),
        (_Source(mount, other.prompts, _prompt), parent.prompts),
        (_Source(mount, other.resources, _resource), parent.resources),
        (_Source(mount, other.templates, _template), parent.templates),
    ]
    # Two passes: every kind is checked before any registry shows the mounted entries, so
    # a clash among the prompts does not leave the tools already mounted.
    for source, registry in pairs:
        _check_entries(mount, source, registry)
    for source, registry in pairs:
        registry.mount(source)
    # `mounted_in` is how the mounted server finds its parent's sessions and listens
    # (`followed_uris`), and how a second mount of it is refused.
    other.mounted_in = mount
    parent.visibility.adopt(other.visibility)  # (its per-request rules judge through here)
    parent.mounts = (*parent.mounts, mount)
    return mount


def _check_mountable(
    parent: ServerCore, other: ServerCore, namespace: str | None, separator: str
) -> None:
    """Refuse a mount that could not work: a parent that cannot compose, a namespace or
    separator that would not fit in tool names and URIs, a cycle (a server mounted,
    at any depth, inside itself would route requests forever), a server already mounted
    elsewhere (it has one `mounted_in`), or a parent already serving (the mounted server's
    lifespan would never be entered)."""
    if not parent.composable:
        raise TypeError(
            "a proxy (mcpkit.proxy.ProxyServer) answers each session from its own upstream "
            "session, so it cannot mount servers beside it: mount the proxy and the others in "
            "a Server, or proxy the composed one"
        )
    if namespace is not None and not _NAMESPACE.fullmatch(namespace):
        raise ValueError(
            f"invalid namespace {namespace!r}: use 1 to 64 characters from A-Z, a-z, 0-9, "
            "'_', '-' and '.' (they must fit in tool names and URIs alike), or None"
        )
    if not _SEPARATOR.fullmatch(separator):
        raise ValueError(f"invalid separator {separator!r}: use '_', '.' or '-'")
    # Mounting makes a cycle exactly when `parent` already sits inside `other`: when
    # `other` is `parent` itself or a server `parent` is mounted in, at any depth. Walking
    # up from `parent` finds it; nothing below `other` needs looking at, since each server
    # has one parent and the chain above `parent` is the only way back to it.
    ancestor: ServerCore | None = parent
    while ancestor is not None:
        if ancestor is other:
            what = "itself" if other is parent else f"{other.name!r}, which contains it"
            raise ValueError(f"server {parent.name!r} cannot mount {what}: that is a cycle")
        ancestor = ancestor.mounted_in.parent if ancestor.mounted_in is not None else None
    if other.mounted_in is not None:
        raise ValueError(
            f"server {other.name!r} is already mounted in {other.mounted_in.parent.name!r}; "
            "a server is mounted in one parent (build another Server for the second)"
        )
    if parent.is_running:
        raise RuntimeError(
            f"server {parent.name!r} is already serving: mount {other.name!r} before it starts, "
            "so that its lifespan is entered with the parent's"
        )


def _check_entries(
    mount: Mount[ServerCore], source: MountedSource[Any], registry: Registry[Any]
) -> None:
    """At mount time, every entry of the mounted server must show, under a name of its own.

    A name the parent already has would make one of the two unreachable: the parent's
    own entry wins a lookup, so the mounted one would be listed but never served."""
    for key, item in source.registry.entries():
        shown = source.rewrite(key, item)
        if shown is None:
            raise ValueError(
                f"cannot mount {mount.server.name!r} under {mount.namespace!r}: its "
                f"{source.registry.kind} {key!r} has no valid name there (a tool name has "
                "at most 128 characters; a URI template must start with its scheme)"
            )
        if shown[0] in registry:
            raise ValueError(
                f"cannot mount {mount.server.name!r}: its {source.registry.kind} {key!r} "
                f"would be {shown[0]!r}, which {mount.parent.name!r} already has; mount it "
                "under a namespace, or rename one of them"
            )


# --------------------------------------------------- the mount serving an item


def mount_of(source: MountedSource[Any]) -> Mount[ServerCore]:
    """The mount a registry source belongs to. Every source a parent's registry holds was
    made by `mount_server`, so another kind would be a bug here, not a client's fault."""
    assert isinstance(source, (_Source, MountedTools))
    return source.mount


def owner_of(server: Findable, uri: str) -> tuple[Mount[ServerCore], str] | None:
    """The mount serving `uri` and the URI it knows it by, found as resources/read finds
    it: an exact resource first, then the first template that matches (the parent's own
    ones first); None when `server` serves it itself, or nothing does."""
    # The order resources/read itself follows (`handlers.features._find`): were a template tried
    # first, a mounted template could capture the URI of the parent's concrete resource.
    if uri in server.resources:
        exact = server.resources.origin(uri)
        return None if exact is None else (mount_of(exact[0]), exact[1])
    for template in server.templates.items():
        if template.template.match(uri) is not None:
            matched = server.templates.origin(template.wire.uri_template)
            if matched is None:
                return None
            mount = mount_of(matched[0])
            inner = mount.original_uri(uri)
            return None if inner is None else (mount, inner)
    return None


def followed_uris(server: ServerCore) -> set[str]:
    """The URIs of `server` that clients follow (2025 subscriptions, 2026 listens), as
    `server` knows them: those the clients of the outermost server follow in this process,
    taken through each mount down to `server`."""
    # A mounted server has no sessions of its own: its clients are the outermost server's,
    # so what they follow is read there and mapped back through each namespace on the way.
    mount = server.mounted_in
    if mount is None:
        followed = set(server.listeners.followed_uris())
        for handle in server.sessions:
            followed |= handle.subscriptions
        return followed
    mine: set[str] = set()
    for uri in followed_uris(mount.parent):
        found = owner_of(mount.parent, uri)
        if found is not None and found[0] is mount:
            mine.add(found[1])
    return mine
