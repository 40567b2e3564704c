"""Requests that a server's own extensions add (SEP-2133; `server.declare_extension(...,
methods=...)`): checked when declared, described for the protocol sessions of both eras, and
served only to a client that declared the extension too."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Protocol, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.extensions import TASKS, own_requests
from mcpkit.protocol.modern import is_modern_revision, missing_capability
from mcpkit.types.methods import (
    MODERN_REVISIONS,
    SUPPORTED_REVISIONS,
    MethodInfo,
    methods_for,
)
from mcpkit.types.skills import SKILLS_METHODS

__all__ = [
    "ExtensionHandler",
    "ExtensionMethod",
    "ExtensionRequest",
    "extension_methods",
    "method_infos",
    "serve",
]

#: A request an extension adds: `handler(ctx, params)`, `ctx` the request's `Context`,
#: params as a dict, a dict (or a result struct) back; sync or async. (`ctx` is typed Any:
#: the Context knows its server, whose registrations name this type, so naming the Context
#: here would close an import cycle; a handler typed `(ctx: Context, params)` is one.)
ExtensionHandler = Callable[[Any, dict[str, Any]], Any]


class ExtensionRequest(Protocol):
    """What `serve` reads of the request's Context (`mcpkit.Context` is one)."""

    method: str
    #: The request's `_meta`, which `serve` takes out of the params and sets here.
    meta: dict[str, Any] | None

    @property
    def protocol_version(self) -> str | None:
        """The revision the request is served under: it picks the error for a client
        that did not declare the extension."""
        ...

    def client_extension(self, extension_id: str) -> dict[str, Any] | None:
        """The settings the client declared for `extension_id`; None if it did not."""
        ...


@dataclass(frozen=True, slots=True)
class ExtensionMethod:
    """A request an extension adds: the extension it belongs to, whose declaration by the
    client it needs, and its handler."""

    extension: str
    handler: ExtensionHandler


#: Every method a server already answers or sends, in some revision or known extension.
#: All revisions count, not one: a name free in one revision is taken in another.
_TAKEN: Final = frozenset(
    {m for revision in (*MODERN_REVISIONS, *SUPPORTED_REVISIONS) for m in methods_for(revision)}
    | set(SKILLS_METHODS)
    | set(TASKS.methods)
)


def extension_methods(
    extension_id: str,
    methods: Mapping[str, ExtensionHandler],
    existing: Mapping[str, ExtensionMethod],
) -> dict[str, ExtensionMethod]:
    """The requests `extension_id` adds, checked: named, not the protocol's own, not another
    extension's, and callable.

    Raises ValueError or TypeError naming the extension and the method: checked when the
    extension is declared, so a clash never waits for a client to send the request.
    """
    added: dict[str, ExtensionMethod] = {}
    for name, handler in methods.items():
        # A notification gets no answer, and JSON-RPC 2.0 keeps `rpc.` names for itself.
        if not name or name.startswith(("notifications/", "rpc.")):
            raise ValueError(f"extension {extension_id}: {name!r} cannot name a request")
        if name in _TAKEN:
            raise ValueError(f"extension {extension_id}: {name} is a method of the protocol")
        # The same extension declared again may name its own methods again.
        other = existing.get(name)
        if other is not None and other.extension != extension_id:
            raise ValueError(f"extension {extension_id}: {name} is {other.extension}'s already")
        if not callable(handler):
            raise TypeError(f"extension {extension_id}: the handler of {name} is not callable")
        added[name] = ExtensionMethod(extension_id, handler)
    return added


#: (skills, names) -> their table. Keyed by what the table is made of, and nothing else: two
#: servers with the same key rightly share one. Bounded, the oldest going first (a server
#: declares its extensions before it serves: only servers built again and again fill it).
_infos: dict[tuple[bool, frozenset[str]], Mapping[str, MethodInfo] | None] = {}
_MAX_INFOS: Final = 256


def method_infos(skills: bool, names: frozenset[str]) -> Mapping[str, MethodInfo] | None:
    """The extension methods a session speaks beside its revision's: the skills extension's
    where `skills`, and the requests `names` (one table per such set, shared by every
    session of the servers that have it: an idle session holds no table of its own)."""
    # Most servers declare no extension at all: one shared None answers for all of them.
    key = (skills, names)
    if key in _infos:
        return _infos[key]
    table: dict[str, MethodInfo] = dict(SKILLS_METHODS) if skills else {}
    table.update(own_requests(names))
    if len(_infos) >= _MAX_INFOS:
        del _infos[next(iter(_infos))]  # a dict keeps insertion order: this is the oldest
    found = _infos[key] = MappingProxyType(table) if table else None
    return found


async def serve(method: ExtensionMethod, ctx: ExtensionRequest, params: Any) -> Any:
    """Run an extension's request for a client that declared the extension."""
    # SEP-2133: an extension's requests are for clients that declared it. Under 2026-07-28
    # a request says what it relies on, so the answer names the capability (-32021);
    # under 2025-11-25 the method is simply not there for that client.
    if ctx.client_extension(method.extension) is None:
        if is_modern_revision(ctx.protocol_version):
            raise missing_capability(("extensions", method.extension))
        raise McpError(
            codes.METHOD_NOT_FOUND,
            f"Method not found: {ctx.method} (the client did not declare the extension "
            f"{method.extension})",
        )
    given: dict[str, Any] = cast("dict[str, Any]", params) if isinstance(params, dict) else {}
    if "_meta" in given:  # (the request's `_meta` is `ctx.meta`, as for any request)
        given = dict(given)
        meta = given.pop("_meta")
        ctx.meta = cast("dict[str, Any]", meta) if isinstance(meta, dict) else None
    answer: Any = method.handler(ctx, given)
    if inspect.isawaitable(answer):
        answer = await answer
    # None is an empty result: every MCP result is a JSON object.
    if answer is None:
        return {}
    # Anything else is the handler author's bug, raised (an internal error), not sent.
    if not isinstance(answer, (dict, msgspec.Struct)):
        raise TypeError(f"the handler of {ctx.method} returned {type(answer).__name__}, not a dict")
    return cast("Any", answer)
