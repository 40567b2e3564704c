"""Protocol extensions (SEP-2133) that add methods to the modern revision (2026-07-28).

An extension is named by an identifier under `capabilities.extensions`. The server lists the
ones it serves in `server/discover`; a 2026-07-28 request uses one only when its own `_meta`
client capabilities declare it. `Extension` is what the session needs to know of one: the
methods it adds (a table like a revision's, `mcpkit.types.methods`), and which params field
names the item a method acts on (mirrored in the `Mcp-Name` HTTP header, SEP-2243). A request
for an extension's method from a client that did not declare the extension is refused with
-32021, naming the extension in `data.requiredCapabilities`; one for a method no served
extension adds is unknown (-32601), as any other.

`TASKS` is the tasks extension (SEP-2663): tasks/get, tasks/update, tasks/cancel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import msgspec

from mcpkit.protocol.param_headers import NAMED_BY as BASE_NAMED_BY
from mcpkit.types import ClientCapabilities
from mcpkit.types.methods import MethodInfo, methods_for
from mcpkit.types.tasks_extension import (
    EXTENSION_ID,
    CancelTaskParams,
    GetTaskParams,
    UpdateTaskParams,
)

__all__ = ["NAMED_BY", "TASKS", "Extension", "declares", "methods_with", "own_requests"]


class Extension(msgspec.Struct, frozen=True, kw_only=True):
    """One extension: its identifier, the request methods it adds (client to server), and
    the params field (wire name) that names each one's item for `Mcp-Name`."""

    id: str
    methods: Mapping[str, MethodInfo]
    named_by: Mapping[str, str] = MappingProxyType({})


def declares(capabilities: ClientCapabilities, extension_id: str) -> bool:
    """Whether `capabilities` (a request's, or a session's) declare the extension."""
    extensions = capabilities.extensions
    return extensions is not None and extension_id in extensions


#: (revision, the identities of the extensions) -> (those extensions, the table). By identity,
#: not by the extensions' ids: two servers in one process may each declare an extension of
#: one id that adds other methods. The extensions kept in the value keep their identities
#: from being reused while the entry stands. Bounded, the oldest going first: a server's
#: extensions are set when its sessions are built, so only servers built again and again
#: would fill it.
_TABLES: dict[
    tuple[str, tuple[int, ...]], tuple[tuple[Extension, ...], Mapping[str, MethodInfo]]
] = {}
_MAX_TABLES: Final = 64


def methods_with(revision: str, extensions: Sequence[Extension]) -> Mapping[str, MethodInfo]:
    """`revision`'s method table with the methods of `extensions` added (made once for each
    revision and set of extensions: a stateless server builds a session per request)."""
    key = (revision, tuple(map(id, extensions)))
    found = _TABLES.get(key)
    if found is not None:
        return found[1]
    merged = dict(methods_for(revision))
    for extension in extensions:
        merged.update(extension.methods)
    table = MappingProxyType(merged)
    if len(_TABLES) >= _MAX_TABLES:
        del _TABLES[next(iter(_TABLES))]
    _TABLES[key] = (tuple(extensions), table)
    return table


def own_requests(names: Iterable[str]) -> dict[str, MethodInfo]:
    """The requests (client to server) of an extension that is neither of the protocol nor
    known here (SEP-2133; a server's `declare_extension(..., methods=...)`): params and
    result as JSON objects, whose shape only the extension's handler knows."""
    return {
        name: MethodInfo(
            method=name,
            kind="request",
            direction=frozenset({"client_to_server"}),
            params=dict[str, Any],
            result=dict,
        )
        for name in names
    }


def _request(method: str, params: type[msgspec.Struct]) -> MethodInfo:
    # Results are built by the handlers as plain dicts: tasks/get's shape depends on status.
    return MethodInfo(
        method=method,
        kind="request",
        direction=frozenset({"client_to_server"}),
        params=params,
        result=dict,
    )


TASKS: Final = Extension(
    id=EXTENSION_ID,
    methods=MappingProxyType(
        {
            "tasks/get": _request("tasks/get", GetTaskParams),
            "tasks/update": _request("tasks/update", UpdateTaskParams),
            "tasks/cancel": _request("tasks/cancel", CancelTaskParams),
        }
    ),
    # SEP-2663, "Streamable HTTP: Routing Headers": Mcp-Name carries params.taskId, so a load
    # balancer can send every request about a task to the instance that holds it.
    named_by=MappingProxyType({m: "taskId" for m in ("tasks/get", "tasks/update", "tasks/cancel")}),
)

#: Every method whose `Mcp-Name` header names a params field (wire name): the revision's own
#: (tools/call, ...) and every known extension's. The client sends by it, the server checks by it.
NAMED_BY: Final[Mapping[str, str]] = MappingProxyType({**BASE_NAMED_BY, **TASKS.named_by})
