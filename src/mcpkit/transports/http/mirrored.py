"""The request headers a 2026-07-28 POST mirrors from its body, checked against it (spec:
basic/transports/streamable-http, "Request Metadata", "Custom Headers from Tool Parameters",
"Server Validation"; SEP-2243).

A 2026 client copies the body's revision (`MCP-Protocol-Version`), method (`Mcp-Method`) and,
for tools/call, resources/read and prompts/get, the item it names (`Mcp-Name`) into headers, so
that a load balancer can route on them without reading the body; a tool may also mark
arguments to be mirrored as `Mcp-Param-{Name}` (`x-mcp-header` in its input schema). A server
that acts on the body must refuse a request whose headers say something else (-32020,
HeaderMismatch, HTTP 400): otherwise what the balancer routed on and what the server ran
could differ. Header names compare case-insensitively, values exactly, after the optional
whitespace around them is dropped and the `=?base64?...?=` form is decoded.

`mirror_problem` is a pure function over the headers and the decoded body fields. A 2026-07-28
POST asks it of what the server's reading session read of its body
(`own_calls.MirrorCheck`, beside the serving that asks it): the session decodes the body
anyway, and a request whose headers say what its params do is checked from those, with no
decode of its own; any other body is read here (`read_mirrored`), so every refusal is
`mirror_problem`'s, and comes before any of the session's. What the checks consult of a server
and remember of what they read is the server's, not the process's (`MirrorMemory`: the
deployment's `transports.deployment.mirror_memos.MirrorMemos`, which the server makes with its
first app and hands to each app it builds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar

import msgspec

from mcpkit._asgi import Headers, collect, quote_header, values_of
from mcpkit.errors import McpError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.extensions import NAMED_BY
from mcpkit.protocol.modern import REVISION_KEY
from mcpkit.protocol.param_headers import decode_value, value_at

__all__ = [
    "Counted",
    "Mirrored",
    "MirrorMemory",
    "body_problem",
    "ParamHeaders",
    "Parse",
    "decode_value",
    "error_body",
    "mirror_problem",
    "read_mirrored",
]

_OWS: Final = b" \t"
_T_co = TypeVar("_T_co", covariant=True)

#: A tool's mirrored arguments: header name suffix (as declared) -> the argument's path.
ParamHeaders = Callable[[str], Mapping[str, tuple[str, ...]] | None]


class Counted(Protocol):
    """What counts the changes of a server's tools (its `tools` registry): what
    `param_headers` answers stays the same while `changes` does."""

    @property
    def changes(self) -> int: ...


class Parse(Protocol[_T_co]):
    """What reads a header value (remembering what it found: `mcpkit._asgi.memo_short`). A
    Protocol, not a `Callable`: a callable kept in a slot is no method of its object."""

    def __call__(self, value: bytes, /) -> _T_co: ...


class MirrorMemory(Protocol):
    """What the checks of one server's 2026-07-28 POSTs consult of it and remember (the
    deployment's `mirror_memos.MirrorMemos`, which says what each holds and bounds them): its
    tools' mirrored arguments (`param_headers`; which tools mirror none, `plain_tools`, while
    `tools` counts `tools_at` changes, `mirrors_none`), the header values seen before and
    their text or name (`texts` by `text`, `names` by `decode_value`), and where a params
    type holds `_meta` and the item named (`attrs_for`, the last one asked `last_attrs`)."""

    param_headers: ParamHeaders | None
    tools: Counted | None
    tools_at: int
    plain_tools: set[str]
    texts: dict[bytes, str]
    names: dict[bytes, str | None]
    last_attrs: tuple[Any, ...]
    text: Parse[str]
    decode_value: Parse[str | None]

    def attrs_for(self, kind: type, method: str) -> tuple[str, str] | None: ...

    def mirrors_none(self, tool: str) -> bool: ...


class _Meta(msgspec.Struct, gc=False):
    """The one `_meta` key a header mirrors (the rest is skipped undecoded)."""

    protocol_version: Any = msgspec.field(default=None, name=REVISION_KEY)


class _Params(msgspec.Struct, gc=False):
    meta: _Meta | None = msgspec.field(default=None, name="_meta")
    name: Any = None
    uri: Any = None
    taskId: Any = None
    arguments: Any = None


class Mirrored(msgspec.Struct, gc=False):
    """What the headers mirror from a request body (the rest of it is skipped undecoded)."""

    # (gc=False, here and above: freshly decoded JSON cannot refer back to the struct, so it
    # is never part of a cycle, and the collector need not track one per request.)

    method: Any = None
    id: Any = None
    params: _Params | None = None


def read_mirrored(body: bytes) -> Mirrored | None:
    """The mirrored fields of `body`; None when it is not one JSON object of that shape, or
    not UTF-8, or nested too deeply to decode (the session then answers it as any malformed
    body: a parse error, or the depth limit's refusal)."""
    try:
        return _DECODER.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


_DECODER: Final = msgspec.json.Decoder(Mirrored)


def error_body(rid: object, error: McpError) -> bytes:
    """The JSON-RPC error response of `error`, under `rid` where it is one a request may have
    (else a null id)."""
    valid_id = rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
    return jsonrpc.encode_error(valid_id, error.code, error.message, error.data)


def body_problem(
    body: bytes,
    headers: Headers,
    memos: MirrorMemory,
    each: Mapping[bytes, bytes] | None,
    agreed: bool = False,
) -> tuple[Mirrored, McpError] | None:
    """The full check of a 2026-07-28 POST, from the fields read from its `body`
    (`read_mirrored`): what it read and its refusal (`mirror_problem`, the revision checked
    too, with the server's `memos`), or None (also for a body that does not read so: the
    session answers it as malformed). `agreed` as for `mirror_problem`."""
    found = read_mirrored(body)
    if found is None:
        return None
    problem = mirror_problem(
        headers,
        found,
        memos.param_headers,
        check_revision=True,
        each=each,
        memos=memos,
        agreed=agreed,
    )
    return None if problem is None else (found, problem)


def mirror_problem(
    headers: Headers,
    found: Mirrored,
    param_headers: ParamHeaders | None = None,
    *,
    check_revision: bool = False,
    each: Mapping[bytes, bytes] | None = None,
    memos: MirrorMemory | None = None,
    agreed: bool = False,
) -> McpError | None:
    """HeaderMismatch (-32020) when a header the body calls for is missing, malformed, or says
    something else than the body; None when they agree. With `check_revision`, also
    `MCP-Protocol-Version` against the body's `_meta` revision (else the caller checks it:
    it also decides which era the POST is). `each` is `distinct(headers)` when the caller has
    it: each header is then one lookup; else the headers are walked once for the fixed ones.
    `memos`: the server's, where the values seen are remembered (None: none is). `agreed`:
    the caller found already that the fixed headers (the revision, the method, the name)
    say what the body does, so only the arguments a tool mirrors are left to check."""
    if not agreed:
        decode = decode_value if memos is None else memos.decode_value
        problem = _fixed_problem(decode, headers, found, check_revision, each)
        if problem is not None:
            return problem
    # Last, the arguments a tool mirrors (most mirror none: `param_headers` says so quickly).
    params = found.params
    if param_headers is not None and found.method == "tools/call" and params is not None:
        name = params.name
        declared = param_headers(name) if isinstance(name, str) else None
        if declared:
            return _params_problem(headers, declared, params.arguments)
    return None


def _fixed_problem(
    decode: Callable[[bytes], str | None],
    headers: Headers,
    found: Mirrored,
    check_revision: bool,
    each: Mapping[bytes, bytes] | None,
) -> McpError | None:
    """`mirror_problem` for the fixed headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name);
    `decode` reads Mcp-Name (`decode_value`, or the server's memo of it)."""
    versions, methods, named = _sent(headers, each)
    if check_revision:
        meta = None if found.params is None else found.params.meta
        revision = None if meta is None else meta.protocol_version
        if isinstance(revision, str) and (
            len(versions) != 1 or versions[0].strip(_OWS).decode("latin-1") != revision
        ):
            return _mismatch(
                "MCP-Protocol-Version must be sent once and equal the body's "
                f"_meta {REVISION_KEY} {revision!r}"
            )
    method = found.method if isinstance(found.method, str) else None
    if method is None:
        return None  # not a request or notification the session can read: it says so itself
    if len(methods) != 1:
        return _mismatch(f"send one Mcp-Method header naming the body's method {method!r}")
    if methods[0].strip(_OWS).decode("latin-1") != method:
        return _mismatch(
            f"Mcp-Method header {quote_header(methods[0])} does not match the body's method "
            f"{method!r}"
        )
    return _name_problem(decode, named, method, found.params)


#: The headers every 2026-07-28 POST mirrors (`Mcp-Param-*` are looked up when a tool has any).
_MIRRORED: Final = frozenset({b"mcp-protocol-version", b"mcp-method", b"mcp-name"})


def _sent(
    headers: Headers, each: Mapping[bytes, bytes] | None
) -> tuple[Sequence[bytes], Sequence[bytes], Sequence[bytes]]:
    """The values sent of MCP-Protocol-Version, Mcp-Method and Mcp-Name: a lookup each in
    `each` when given, else from one pass over the headers."""
    if each is None:
        found = collect(headers, _MIRRORED)
        get = found.get
        return get(b"mcp-protocol-version", []), get(b"mcp-method", []), get(b"mcp-name", [])
    version, method, name = (
        each.get(b"mcp-protocol-version"),
        each.get(b"mcp-method"),
        each.get(b"mcp-name"),
    )
    return (
        () if version is None else (version,),
        () if method is None else (method,),
        () if name is None else (name,),
    )


def _name_problem(
    decode: Callable[[bytes], str | None],
    named: Sequence[bytes],
    method: str,
    params: _Params | None,
) -> McpError | None:
    """`Mcp-Name` must carry the item a tools/call, prompts/get or resources/read names (or
    an extension's method: the task of tasks/get, tasks/update, tasks/cancel)."""
    field = NAMED_BY.get(method)
    body_value = getattr(params, field, None) if field is not None and params else None
    if not isinstance(body_value, str):
        return None
    if len(named) != 1:
        return _mismatch(f"send one Mcp-Name header naming the body's params.{field}")
    value = decode(named[0])
    if value is None:
        return _mismatch(f"Mcp-Name header {quote_header(named[0])} is malformed")
    if value != body_value:
        return _mismatch(
            f"Mcp-Name header {quote_header(named[0])} does not match the body's params.{field}"
        )
    return None


def _params_problem(
    headers: Headers, declared: Mapping[str, tuple[str, ...]], arguments: Any
) -> McpError | None:
    """Each argument a tool mirrors must come in its `Mcp-Param-{Name}` header when the body
    has a value for it, equal to it; a header for an argument the body lacks is refused too."""
    for suffix, path in declared.items():
        header = b"mcp-param-" + suffix.lower().encode("ascii")
        sent = values_of(headers, header)
        value = value_at(arguments, path)
        if value is None:
            if sent:
                return _mismatch(f"Mcp-Param-{suffix} is sent but the body has no value for it")
            continue
        if len(sent) != 1:
            return _mismatch(
                f"the body has a value for {'.'.join(path)}, so send it once in the "
                f"Mcp-Param-{suffix} header"
            )
        got = decode_value(sent[0])
        if got is None:
            return _mismatch(f"Mcp-Param-{suffix} header {quote_header(sent[0])} is malformed")
        if not _same(got, value):
            return _mismatch(
                f"Mcp-Param-{suffix} header {quote_header(sent[0])} does not match the body's "
                f"{'.'.join(path)}"
            )
    return None


def _same(header: str, value: Any) -> bool:
    """Whether a header's text is the body's value: strings exactly, booleans as true/false,
    numbers numerically (42 and 42.0 agree)."""
    if isinstance(value, bool):
        return header == ("true" if value else "false")
    if isinstance(value, (int, float)):
        try:
            number = float(header)
        except ValueError:
            return False
        return math.isfinite(number) and number == value
    if isinstance(value, str):
        return header == value
    return False  # objects and arrays cannot be mirrored


def _mismatch(why: str) -> McpError:
    return McpError(codes.HEADER_MISMATCH, f"Header mismatch: {why}")
