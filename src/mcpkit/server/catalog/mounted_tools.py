"""Tool transforms where the tools live: `server.transform_tool()` for a server's own tools and
its mounted ones, and `MountedTools`, a mounted server's tools as its parent shows them
(namespaced, renamed by `tool_names`, transformed by `transforms`), live.

A derived tool runs where it is shown; its original runs where it lives: a mounted one in its
own server, with that server's Context, settings and middleware, as a routed call would.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from mcpkit.errors import ToolError
from mcpkit.runtime.layers import call_through
from mcpkit.server.catalog.mounts import Mount
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.tools import ToolSpec, run_as_set
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
        self._generation: object = None
        self._missing: frozenset[str] = frozenset()
        self._refused: dict[str, str] = {}  # key -> why it is left out (logged once)

    @property
    def registry(self) -> Registry[ToolSpec]:
        return self.mount.server.tools

    def is_transformed(self, key: str) -> bool:
        """Whether the parent shows a derived tool for `key` (one it runs itself)."""
        return key in self._derived

    def check(self) -> None:
        """At mount time: every name given is a tool of the mounted server, and every
        transform fits its tool (ValueError or TypeError otherwise). A proxy's tools are
        known only once it has listed its upstream's: those are checked then, in the log."""
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
        try:
            shown = self._rewrite(key, spec)
        except (ValueError, TypeError):
            del self._later[key]
            raise
        assert shown is not None
        self.mount.parent.tools.sources_changed()
        return shown[1]

    def hide(self, key: str) -> None:
        self.hidden.add(key)
        self.mount.parent.tools.sources_changed()

    def _rewrite(self, key: str, spec: ToolSpec) -> tuple[str, ToolSpec] | None:
        if key in self.hidden:
            return None
        shown = self._show(self.mount, key, spec)
        transform = self._transform(key, spec)
        if transform is None:
            self._derived.pop(key, None)
            return shown
        if transform.name is None:
            if shown is None:
                return None
            transform = dataclasses.replace(transform, name=shown[0])
        cached = self._derived.get(key)
        if cached is not None and cached[0] is spec and cached[1] == transform:
            return cached[2].name, cached[2]
        base = spec if shown is None else shown[1]
        derived = derive_tool(base, transform, functools.partial(invoke_mounted, self.mount, key))
        self._derived[key] = (spec, transform, derived)
        return derived.name, derived

    def _transform(self, key: str, spec: ToolSpec) -> ToolTransform | None:
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
    inner = ctx.derive(server=server)

    async def run(params: CallToolRequestParams) -> CallToolResult:
        spec = server.tools.get(key)
        if spec is None:
            raise ToolError(f"the tool {key!r} of {server.name!r} that this one calls is gone")
        origin = mounted_origin(server, key)
        given = params.arguments or {}
        if origin is not None and not origin[0].is_transformed(origin[1]):
            # a plain mount: its own server runs it
            return await invoke_mounted(origin[0].mount, origin[1], inner, given)
        result: CallToolResult = await _run_here(spec, inner, given)
        return result

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
    source = origin[0]
    assert isinstance(source, MountedTools)  # (what a mount shows tools by)
    return source, origin[1]


def _run_here(spec: ToolSpec, ctx: Any, arguments: dict[str, Any]) -> Any:
    return run_as_set(ctx.server, spec, arguments, ctx)


def transform_tool(
    server: ServerCore,
    tool: str,
    keep_original: bool,
    options: ToolTransformOptions,
) -> ToolSpec:
    """`Server.transform_tool`: derive a tool from `server`'s tool `tool` (its own or a
    mounted one), shown beside it or instead of it."""
    spec = server.tools.get(tool)
    if spec is None:
        raise KeyError(f"no tool named {tool!r} is registered")
    transform = ToolTransform(**options)
    name = transform.name or tool
    if name in server.tools and (keep_original or name != tool):
        raise ValueError(f"a tool named {name!r} is already registered")
    origin = mounted_origin(server, tool)
    mounted = None if origin is None or origin[0].is_transformed(origin[1]) else origin
    if mounted is not None and not keep_original:  # shown live, in its place
        source, key = mounted
        return source.transform_later(key, dataclasses.replace(transform, name=name))
    invoke: Invoke = (
        functools.partial(invoke_mounted, mounted[0].mount, mounted[1])
        if mounted is not None
        else functools.partial(_run_here, dataclasses.replace(spec, name=name))
    )
    derived = derive_tool(spec, transform, invoke)
    if not keep_original:
        if origin is None:
            server.tools.remove(tool)
        else:  # a derived tool its mount shows: the parent runs it, so it is held here
            origin[0].hide(origin[1])
    server.tools.add(derived.name, derived)
    return derived
