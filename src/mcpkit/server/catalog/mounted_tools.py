"""Tool transforms where the tools live: `server.transform_tool()` for a server's own tools and
its mounted ones, and `MountedTools`, a mounted server's tools as its parent shows them
(namespaced, renamed by `tool_names`, transformed by `transforms`), live.

A derived tool runs where it is shown; its original runs where it lives: a mounted one in its
own server, with that server's Context, settings and middleware, as a routed call would.

Names and transforms given at mount time are checked then (ValueError or TypeError naming
the tool), for every tool the mounted server has. The mounted server may change later; a
tool whose transform no longer fits is then left out of the parent's listing and logged
once, rather than shown untransformed (its transform may have hidden an argument), and a
name given at mount time that disappears is logged once too.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from mcpkit.errors import ToolError
from mcpkit.runtime.layers import call_through
from mcpkit.server.catalog.calling.tool_calls import run_as_set
from mcpkit.server.catalog.mounts import Mount
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.transforms import (
    Invoke,
    ToolTransform,
    ToolTransformOptions,
    ToolTransforms,
    derive_tool,
)
from mcpkit.server.core import ServerCore
from mcpkit.types import CallToolRequestParams, CallToolResult, Tool

__all__ = ["MountedTools", "transform_tool"]

logger = logging.getLogger("mcpkit.server")

#: How a mount shows a tool of its server without a transform: the parent's name and spec
#: for the mounted `key` (namespaced, say), or None to leave it out.
Show = Callable[[Mount[ServerCore], str, ToolSpec], "tuple[str, ToolSpec] | None"]


class MountedTools:
    """A mounted server's tools as its parent shows them (a `MountedSource`): each as `show`
    names it, unless `tool_names` or `transforms` make a derived tool of it."""

    def __init__(
        self,
        mount: Mount[ServerCore],
        show: Show,
        tool_names: Mapping[str, str] | None = None,
        transforms: ToolTransforms | None = None,
    ) -> None:
        self.mount = mount
        self._show = show
        # Copies: a caller's mapping changed after mounting must not change what is shown.
        self._names = dict(tool_names or {})
        self._by_name: dict[str, ToolTransform] = {}
        self._for_each: Callable[[Tool], ToolTransform | None] | None = None
        if callable(transforms):
            self._for_each = transforms
        elif transforms is not None:
            self._by_name = dict(transforms)
        #: Transforms made later (`transform_tool` of a mounted name), by key.
        self._later: dict[str, ToolTransform] = {}
        #: Keys the parent does not show (their derived tool replaced them).
        self.hidden: set[str] = set()
        # key -> (its spec, the transform, the derived spec), rebuilt only when one changes.
        self._derived: dict[str, tuple[ToolSpec, ToolTransform, ToolSpec]] = {}
        # The mounted registry's snapshot last checked for missing names, and what it lacked:
        # each missing name is logged once, not at every listing.
        self._generation: object = None
        self._missing: frozenset[str] = frozenset()
        self._refused: dict[str, str] = {}  # key -> why it is left out (logged once)

    @property
    def registry(self) -> Registry[ToolSpec]:
        """The mounted server's tools, read live: a tool it adds later is shown too."""
        return self.mount.server.tools

    def is_transformed(self, key: str) -> bool:
        """Whether the parent shows a derived tool for `key` (one it runs itself). Such a
        tool is called as the parent's own, its original then reached by `invoke_mounted`."""
        return key in self._derived

    def check(self) -> None:
        """At mount time: every name given is a tool of the mounted server, and every
        transform fits its tool (ValueError or TypeError otherwise). A proxy's tools are
        known only once it has listed its upstream's: those are checked then, in the log."""
        # A proxy's registry is empty until it has listed its upstream: nothing to check yet.
        if not self.mount.server.composable:
            return
        entries = dict(self.registry.entries())
        # (one the mounted server disables is its still: it may enable it again)
        unknown = sorted(k for k in self._named() - set(entries) if self.registry.own(k) is None)
        if unknown:
            raise ValueError(
                f"cannot mount {self.mount.server.name!r}: it has no tool {unknown[0]!r} "
                f"(its tools: {', '.join(repr(k) for k in entries) or 'none'})"
            )
        for key, spec in entries.items():
            self._rewrite(key, spec)

    def rewrite(self, key: str, item: ToolSpec) -> tuple[str, ToolSpec] | None:
        """The name and spec the parent shows for the mounted tool `key`, or None to leave
        it out (`MountedSource.rewrite`); the parent's registry asks as it builds its view."""
        self._note_missing()
        try:
            shown = self._rewrite(key, item)
        except (ValueError, TypeError) as exc:
            # A tool that changed since it was mounted (or a proxy's, listed later): left
            # out rather than shown untransformed, since a transform may hide an argument.
            if self._refused.get(key) != str(exc):
                logger.error("mounted tool %r is not shown: %s", key, exc)
            self._refused[key] = str(exc)
            return None
        self._refused.pop(key, None)
        return shown

    def transform_later(self, key: str, transform: ToolTransform) -> ToolSpec:
        """Show a derived tool instead of `key`'s (`transform_tool(keep_original=False)`);
        returns it."""
        spec = self.registry.get(key)
        assert spec is not None  # (the caller found it shown)
        self._later[key] = transform
        # Tried at once, so a transform that does not fit is refused where it is written
        # and leaves the mount as it was.
        try:
            shown = self._rewrite(key, spec)
        except (ValueError, TypeError):
            del self._later[key]
            raise
        assert shown is not None
        # The parent's registry rebuilds its view, as for a change of its own.
        self.mount.parent.tools.sources_changed()
        return shown[1]

    def hide(self, key: str) -> None:
        """Stop showing `key`: a derived tool the parent holds took its place."""
        self.hidden.add(key)
        self.mount.parent.tools.sources_changed()

    def _rewrite(self, key: str, spec: ToolSpec) -> tuple[str, ToolSpec] | None:
        """`rewrite`, raising ValueError or TypeError where a transform no longer fits."""
        if key in self.hidden:
            return None
        shown = self._show(self.mount, key, spec)
        transform = self._transform(key, spec)
        if transform is None:
            self._derived.pop(key, None)
            return shown
        if transform.name is None:
            # Unnamed, the derived tool takes the name the tool would be shown by.
            if shown is None:
                return None
            transform = dataclasses.replace(transform, name=shown[0])
        # Derived again only when the tool or its transform changed: every listing asks.
        cached = self._derived.get(key)
        if cached is not None and cached[0] is spec and cached[1] == transform:
            return cached[2].name, cached[2]
        # From the tool as shown (its namespaced name, say) where the mount shows it.
        base = spec if shown is None else shown[1]
        derived = derive_tool(base, transform, functools.partial(invoke_mounted, self.mount, key))
        self._derived[key] = (spec, transform, derived)
        return derived.name, derived

    def _transform(self, key: str, spec: ToolSpec) -> ToolTransform | None:
        """The transform for `key`, if any: one made later wins over the mount's; a name in
        `tool_names` is one more transform, merged in. ValueError when the two disagree."""
        found = self._later.get(key)
        if found is None:
            found = self._by_name.get(key)
            if found is None and self._for_each is not None:
                found = self._for_each(spec.wire)
        name = self._names.get(key)
        if name is None:
            return found
        if found is not None and found.name is not None and found.name != name:
            raise ValueError(f"tool_names and transforms give {key!r} two names")
        return dataclasses.replace(found or ToolTransform(), name=name)

    def _named(self) -> set[str]:
        """The mounted tool names the mount was written with, which must exist."""
        return set(self._names) | set(self._by_name)

    def _note_missing(self) -> None:
        """Log, once, a name given at mount time that the mounted server no longer has (or,
        for a proxy, never had)."""
        snapshot = self.registry.items()
        if snapshot is self._generation:
            return
        self._generation = snapshot
        missing = frozenset(k for k in self._named() if k not in self.registry)
        for key in sorted(missing - self._missing):
            logger.warning(
                "mounted server %r has no tool %r, which its mount renames or transforms",
                self.mount.server.name,
                key,
            )
        self._missing = missing


async def invoke_mounted(
    mount: Mount[ServerCore], key: str, ctx: Any, arguments: dict[str, Any]
) -> CallToolResult:
    """Call `mount`'s tool `key` in its own server, as a call routed there is served: with
    that server's Context and settings, through its middleware."""
    server = mount.server
    # The same request, with the Context the mounted server would give it.
    inner = ctx.derive(server=server)

    async def run(params: CallToolRequestParams) -> CallToolResult:
        # Looked up at the call: the mounted server may have replaced or removed the tool.
        spec = server.tools.get(key)
        if spec is None:
            raise ToolError(f"the tool {key!r} of {server.name!r} that this one calls is gone")
        origin = mounted_origin(server, key)
        given = params.arguments or {}
        if origin is not None and not origin[0].is_transformed(origin[1]):
            # a plain mount: its own server runs it (mounts nest: this recurses one level
            # down for each)
            return await invoke_mounted(origin[0].mount, origin[1], inner, given)
        result: CallToolResult = await _run_here(spec, inner, given)
        return result

    # The middleware sees the call as the mounted server would: by its own tool name.
    params = CallToolRequestParams(name=key, arguments=arguments)
    if not server.middleware:
        return await run(params)
    result: CallToolResult = await call_through(server.middleware, inner, params, run)
    return result


def mounted_origin(server: ServerCore, name: str) -> tuple[MountedTools, str] | None:
    """The mount's tools that `server`'s tool `name` comes from, and its key there; None
    for one of `server`'s own."""
    origin = server.tools.origin(name)
    if origin is None:
        return None
    # Registries hold sources of any kind; a server's tools come only from MountedTools.
    source = origin[0]
    assert isinstance(source, MountedTools)  # (what a mount shows tools by)
    return source, origin[1]


def _run_here(spec: ToolSpec, ctx: Any, arguments: dict[str, Any]) -> Any:
    """Run `spec` with the settings of the server `ctx` serves, within the tool's limits."""
    return run_as_set(ctx.server, spec, arguments, ctx)


def transform_tool(
    server: ServerCore,
    tool: str,
    keep_original: bool,
    options: ToolTransformOptions,
) -> ToolSpec:
    """`Server.transform_tool`: derive a tool from `server`'s tool `tool` (its own or a
    mounted one), shown beside it or instead of it.

    Raises KeyError for a tool `server` does not have, ValueError for a name already taken,
    and what `derive_tool` raises for a transform that does not fit the tool.
    """
    spec = server.tools.get(tool)
    if spec is None:
        raise KeyError(f"no tool named {tool!r} is registered")
    transform = ToolTransform(**options)
    name = transform.name or tool
    # The derived tool may take the original's name only when it replaces it.
    if name in server.tools and (keep_original or name != tool):
        raise ValueError(f"a tool named {name!r} is already registered")
    origin = mounted_origin(server, tool)
    # A mounted tool its mount already transforms is run by the parent: treated as its own.
    mounted = None if origin is None or origin[0].is_transformed(origin[1]) else origin
    if mounted is not None and not keep_original:  # shown live, in its place
        source, key = mounted
        return source.transform_later(key, dataclasses.replace(transform, name=name))
    # The original runs where it lives; one of this server's own runs under the derived
    # name, so its limits' errors name the tool the client called.
    invoke: Invoke = (
        functools.partial(invoke_mounted, mounted[0].mount, mounted[1])
        if mounted is not None
        else functools.partial(_run_here, dataclasses.replace(spec, name=name))
    )
    derived = derive_tool(spec, transform, invoke)
    # Replacing the original: one of the server's own is removed; a mounted one stays in
    # its server (others may call it there) and is only no longer shown here.
    if not keep_original:
        if origin is None:
            server.tools.remove(tool)
        else:  # a derived tool its mount shows: the parent runs it, so it is held here
            origin[0].hide(origin[1])
    server.tools.add(derived.name, derived)
    return derived
