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

`mirror_problem` is a pure function over the headers and the decoded body fields. `MirrorCheck`
asks it of what the server's reading session read of a body (`checked`, asked by the app before
the request runs): the session decodes the body anyway, and a request whose headers say what
its params do is then checked from those, with no decode of its own; any other body is
decoded here, so every refusal is `mirror_problem`'s, and comes before any of the session's.
What the checks consult of a server and remember of what they read is the server's
(`mirror_memos.MirrorMemos`, which it hands to each app it builds), not the process's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from mcpkit._asgi import Headers, collect, quote_header, values_of
from mcpkit.errors import McpError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.extensions import NAMED_BY
from mcpkit.protocol.outbox import ApartRead
from mcpkit.protocol.own_terms import REVISION_KEY
from mcpkit.protocol.param_headers import decode_value, value_at
from mcpkit.transports.http.mirror_memos import MirrorMemos, ParamHeaders

__all__ = [
    "MirrorCheck",
    "Mirrored",
    "ParamHeaders",
    "decode_value",
    "error_body",
    "mirror_problem",
    "read_mirrored",
]

_OWS: Final = b" \t"


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


class MirrorCheck(msgspec.Struct):
    """`mirror_problem` (`check_revision`) of one body, asked of what the server's reading
    session read of it (`checked`): of the request it would serve, from the params it decoded
    (`request`); else (`rest`: a body it refused, or that held no request) from the body,
    decoded here. Either way the answer is `mirror_problem`'s over `read_mirrored`'s fields,
    and it replaces any the session gave; the body is let go once asked. (A struct: made in
    C, once per POST.)"""

    body: bytes | None
    headers: Headers
    #: The server's: its tools' mirrored arguments, and what its checks remember.
    memos: MirrorMemos
    #: `distinct(headers)`, when no name repeats.
    each: Mapping[bytes, bytes] | None

    def checked(self, read: ApartRead) -> ApartRead:
        """`read`, what the server's reading session read of the body, when the headers
        agree with it; else a read that refuses the body with -32020 (HTTP 400), whatever
        the session made of it."""
        request = read.request
        if request is None:
            answer = self.rest()
        else:
            rid = request.request_id
            terms = request.terms
            # (The revision its `_meta` names is its terms': told, so that the check need
            # not read the `_meta` itself.)
            revision = None if terms is None else terms.revision
            refusal = self.request(rid, request.method, request.params, revision)
            answer = None if refusal is None else error_body(rid, refusal)
        return read if answer is None else ApartRead(None, [], [], [answer], False)

    def request(
        self, request_id: int | str, method: str, params: Any, revision: str | None = None
    ) -> McpError | None:
        """The refusal of the request the body holds, read as `method` with `params` (and
        the revision its `_meta` names, where known), or None to serve it."""
        body = self.body
        if body is None:
            return None  # (asked before, of this body: its answer stands)
        self.body = None
        each = self.each
        if each is not None:
            # The usual request: `_agree` of the fields `read_mirrored` would read, found in
            # the params as decoded (whatever struct the method's params decode into), each a
            # string (decoded from the same JSON: the same value). Where they cannot be found
            # so, or do not agree, the full check below decides.
            kind: type = type(params)  # pyright: ignore[reportUnknownVariableType]  # (Any)
            memos = self.memos
            last = memos.last_attrs
            if kind is last[0] and method == last[1]:
                attrs = last[2]
            else:
                attrs = memos.attrs_for(kind, method)
            if attrs is not None:
                held, naming = attrs
                if revision is None:  # (else the session's, from the same `_meta`)
                    # (The usual attribute names read as attributes, not by `getattr`.)
                    meta: dict[str, Any] | None = (
                        params.meta if held == "meta" else getattr(params, held)
                    )
                    # (`type() is dict`: a `_meta` decoded as an object, its keys as sent)
                    revision = meta.get(REVISION_KEY) if type(meta) is dict else None
                named: object = (
                    None
                    if not naming
                    else params.name
                    if naming == "name"
                    else getattr(params, naming)
                )
                if (
                    type(revision) is str
                    and (not naming or type(named) is str)
                    and _agrees(memos, each, method, revision, named)
                ):
                    if method != "tools/call":
                        return None
                    # The usual tool mirrors no argument: one found so since the tools last
                    # changed is in `plain_tools` (the count compared first: a tool changed
                    # since is asked of again). (`named`: a string, tools/call names its tool.)
                    tools = memos.tools
                    if (
                        memos.tools_at == tools.changes and named in memos.plain_tools
                        if tools is not None
                        else memos.param_headers is None
                    ) or (type(named) is str and memos.mirrors_none(named)):
                        return None
        # Anything else is checked as it always was: from the fields read from the body.
        refused = self._from_body(body)
        return None if refused is None else refused[1]

    def rest(self) -> bytes | None:
        """The answer to a body that held no request to serve, from the body itself."""
        body = self.body
        if body is None:
            return None  # the request was asked about: its answer stands
        self.body = None
        refused = self._from_body(body)
        return None if refused is None else error_body(refused[0].id, refused[1])

    def _from_body(self, body: bytes) -> tuple[Mirrored, McpError] | None:
        """The full check, from the fields read from `body`: what it read and its refusal."""
        found = read_mirrored(body)
        if found is None:
            return None
        memos = self.memos
        problem = mirror_problem(
            self.headers,
            found,
            memos.param_headers,
            check_revision=True,
            each=self.each,
            memos=memos,
        )
        return None if problem is None else (found, problem)


def error_body(rid: object, error: McpError) -> bytes:
    """The JSON-RPC error response of `error`, under `rid` where it is one a request may have
    (else a null id)."""
    valid_id = rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
    return jsonrpc.encode_error(valid_id, error.code, error.message, error.data)


def mirror_problem(
    headers: Headers,
    found: Mirrored,
    param_headers: ParamHeaders | None = None,
    *,
    check_revision: bool = False,
    each: Mapping[bytes, bytes] | None = None,
    memos: MirrorMemos | None = None,
) -> McpError | None:
    """HeaderMismatch (-32020) when a header the body calls for is missing, malformed, or says
    something else than the body; None when they agree. With `check_revision`, also
    `MCP-Protocol-Version` against the body's `_meta` revision (else the caller checks it:
    it also decides which era the POST is). `each` is `distinct(headers)` when the caller has
    it: each header is then one lookup; else the headers are walked once for the fixed ones.
    `memos`: the server's, where the values seen are remembered (None: none is)."""
    if memos is None:
        memos = _FORGETFUL
    if each is None or not check_revision or not _agree(memos, each, found):
        # (Else the usual request: its headers say what its body does, each looked up once.)
        problem = _fixed_problem(memos, headers, found, check_revision, each)
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
    memos: MirrorMemos,
    headers: Headers,
    found: Mirrored,
    check_revision: bool,
    each: Mapping[bytes, bytes] | None,
) -> McpError | None:
    """`mirror_problem` for the fixed headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name)."""
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
    return _name_problem(memos, named, method, found.params)


def _agree(memos: MirrorMemos, each: Mapping[bytes, bytes], found: Mirrored) -> bool:
    """Whether the fixed headers (one of each, by name in `each`) are what the body says: its
    `_meta` revision, its method and the item it names; False when any is not, or when the
    body lacks one of the first two (the full check then says what is wrong, if anything).
    Each header's text is one lookup in a memo of the values seen (a client sends the same
    few), not a strip and a decode per request."""
    method = found.method
    params = found.params
    if type(method) is not str or params is None:
        return False
    meta = params.meta
    if meta is None:
        return False
    revision = meta.protocol_version
    if type(revision) is not str:
        return False
    named: object = None
    if method in _NAMED_BY:
        field = _NAMED_BY[method]
        named = params.name if field == "name" else getattr(params, field, None)
    return _agrees(memos, each, method, revision, named)


def _agrees(
    memos: MirrorMemos, each: Mapping[bytes, bytes], method: str, revision: str, named: object
) -> bool:
    """`_agree` of the body's method, `_meta` revision and the item it names (`named`, not
    mirrored unless a string)."""
    # (Subscripts in a `try`, not `.get` calls: a known value is found with no method call.)
    texts = memos.texts
    try:
        agree = texts[each[b"mcp-protocol-version"]] == revision
        agree = agree and texts[each[b"mcp-method"]] == method
    except KeyError:  # a header not sent, or a value not yet in the memo
        agree = _sent_text(memos, each, b"mcp-protocol-version") == revision
        agree = agree and _sent_text(memos, each, b"mcp-method") == method
    if not agree:
        return False
    if type(named) is not str:
        return True  # (nothing for Mcp-Name to mirror: the full check asks nothing of it)
    try:
        return memos.names[each[b"mcp-name"]] == named
    except KeyError:
        sent = each.get(b"mcp-name")
        return sent is not None and memos.decode_value(sent) == named


def _sent_text(memos: MirrorMemos, each: Mapping[bytes, bytes], name: bytes) -> str | None:
    value = each.get(name)
    return None if value is None else memos.text(value)


#: `NAMED_BY` as a plain dict (a lookup through its read-only proxy is a method call).
_NAMED_BY: Final[dict[str, str]] = dict(NAMED_BY)


#: The memos of a check asked with none (`mirror_problem` called outside a server's app):
#: kept empty, so what one caller was sent is not remembered for another.
_FORGETFUL: Final = MirrorMemos(remember=False)


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
    memos: MirrorMemos, named: Sequence[bytes], method: str, params: _Params | None
) -> McpError | None:
    """`Mcp-Name` must carry the item a tools/call, prompts/get or resources/read names (or
    an extension's method: the task of tasks/get, tasks/update, tasks/cancel)."""
    field = NAMED_BY.get(method)
    body_value = getattr(params, field, None) if field is not None and params else None
    if not isinstance(body_value, str):
        return None
    if len(named) != 1:
        return _mismatch(f"send one Mcp-Name header naming the body's params.{field}")
    value = memos.decode_value(named[0])
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
