"""`MirrorMemos`: what the checks of one server's 2026-07-28 POSTs (`own_calls.MirrorCheck`)
consult of it and remember: its tools' mirrored arguments (and which tools mirror none, while
the tools stay as they are), and bounded memos of what the header values and params types seen
before were found to be, so that a usual POST is checked by lookups. The server's, not the
process's (issue 40: per-process caches are owned by objects the server holds): it makes one
with its first app and hands it to every app it builds. What is remembered, and how much, is
the deployment's choice; the check itself is the binding's (`transports.http.mirrored`, which
names what it reads here as `mirrored.MirrorMemory`).

It relies on: of the binding, the types it names this by (`mirrored.ParamHeaders`,
`mirrored.Counted`); the bounded memo of `mcpkit._asgi`; and the protocol's table of the item
each method names (`NAMED_BY`) and the decoding of a header value (`decode_value`).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from mcpkit._asgi import memo_short
from mcpkit.protocol.extensions import NAMED_BY
from mcpkit.protocol.param_headers import decode_value
from mcpkit.transports.http.mirrored import Counted, ParamHeaders, Parse

__all__ = ["MirrorMemos"]

#: The optional whitespace around a header's value (RFC 9110, 5.5), not part of it.
_OWS: Final = b" \t"

#: The named fields `mirrored._Params` reads (what another names is not checked there).
_READ_NAMED: Final = frozenset({"name", "uri", "taskId"})
#: The most entries `MirrorMemos.attrs` holds (`memo_short` bounds the header memos).
_MAX_ATTRS: Final = 1024
#: The most names `MirrorMemos.plain_tools` holds (each a tool the server has: a peer sending
#: new names cannot add any, but a server may have many tools).
_MAX_PLAIN: Final = 4096


class MirrorMemos:
    """What the mirrored-header checks of one server's POSTs consult: its tools' mirrored
    arguments (`param_headers`), and what the checks remember, each a bounded memo of what a
    value seen before was found to be. A server holds one and hands it to every app it
    builds; an app given none makes its own. (Not the process's: one server's clients would
    push another's values out.)"""

    __slots__ = (
        "attrs",
        "decode_value",
        "last_attrs",
        "names",
        "param_headers",
        "plain_tools",
        "text",
        "texts",
        "tools",
        "tools_at",
    )

    def __init__(
        self,
        param_headers: ParamHeaders | None = None,
        *,
        tools: Counted | None = None,
    ) -> None:
        # (`param_headers` bound once here, not per POST.)
        self.param_headers = param_headers
        #: What counts the changes of the tools `param_headers` tells of (the server's
        #: registry); None: `param_headers` is asked on every tools/call (as when there is
        #: none: then no tool mirrors an argument).
        self.tools = tools if param_headers is not None else None
        #: The names of tools `param_headers` found to mirror no argument, while the tools'
        #: count of changes is `tools_at` (a tools/call of one is then checked with no call).
        self.plain_tools: set[str] = set()
        self.tools_at = -1
        #: Header bytes -> their text without the whitespace around it (`_stripped_text`).
        self.texts: dict[bytes, str] = {}
        self.text: Parse[str] = memo_short(_stripped_text, self.texts)
        #: Mcp-Name bytes -> the name they carry (`decode_value`: None when malformed).
        self.names: dict[bytes, str | None] = {}
        self.decode_value: Parse[str | None] = memo_short(decode_value, self.names)
        #: (params type, method) -> the attributes holding `_meta` and the item `Mcp-Name`
        #: mirrors ("" when the method names none `_READ_NAMED` has); None when the type lacks
        #: either. (A fixed set in practice: the methods' params types.)
        self.attrs: dict[tuple[type, str], tuple[str, str] | None] = {}
        #: The last `attrs` entry asked for, as (params type, method, attributes): a
        #: server's POSTs are mostly of one method, found so with no tuple hashed.
        self.last_attrs: tuple[Any, ...] = (None, None, None)

    def attrs_for(self, kind: type, method: str) -> tuple[str, str] | None:
        """`attrs` of `kind` and `method`, found once (then `last_attrs`)."""
        key = (kind, method)
        known = self.attrs
        if key in known:
            attrs = known[key]
        else:
            attrs = _attrs_of(kind, method)
            if len(known) < _MAX_ATTRS:
                known[key] = attrs
        self.last_attrs = (kind, method, attrs)
        return attrs

    def mirrors_none(self, tool: str) -> bool:
        """Whether a tools/call of `tool` has no argument to check (`param_headers` says it
        mirrors none, or there is no such tool); a tool found so is remembered in
        `plain_tools` until the tools change."""
        param_headers = self.param_headers
        if param_headers is None:
            return True
        tools = self.tools
        if tools is None:
            return not param_headers(tool)
        changes = tools.changes
        if self.tools_at != changes:  # (what was found before may no longer hold)
            self.plain_tools.clear()
            self.tools_at = changes
        declared = param_headers(tool)
        # (Only a tool the server has: a peer naming new ones each time adds nothing.)
        if declared is not None and not declared and len(self.plain_tools) < _MAX_PLAIN:
            self.plain_tools.add(tool)
        return not declared


def _attrs_of(kind: type, method: str) -> tuple[str, str] | None:
    """The attributes of `kind` (the params type `method` decodes into) holding `_meta` and
    the item `Mcp-Name` mirrors; None when it lacks either."""
    if not issubclass(kind, msgspec.Struct):
        return None
    by_wire = {f.encode_name: f.name for f in msgspec.structs.fields(kind)}
    wire = NAMED_BY.get(method, "")
    wire = wire if wire in _READ_NAMED else ""
    if "_meta" in by_wire and (not wire or wire in by_wire):
        return (by_wire["_meta"], by_wire[wire] if wire else "")
    return None


def _stripped_text(value: bytes) -> str:
    return value.strip(_OWS).decode("latin-1")
