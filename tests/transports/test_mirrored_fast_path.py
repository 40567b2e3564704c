"""The mirrored-header check's quick path (headers by name, each one once) answers as the full
walk over the headers does: the same refusal, or none, for headers that agree with the body,
differ from it in any one way, or come with whitespace or in the base64 form."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from mcpkit.transports.deployment.mirror_memos import MirrorMemos
from mcpkit.transports.http.checks import distinct
from mcpkit.transports.http.mirrored import mirror_problem, read_mirrored

_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}
_BODIES: list[dict[str, Any]] = [
    {"method": "tools/call", "params": {"name": "echo", "arguments": {"q": "x"}, "_meta": _META}},
    {"method": "tools/list", "params": {"_meta": _META}},
    {"method": "resources/read", "params": {"uri": "file:///a", "_meta": _META}},
    {"method": "prompts/get", "params": {"name": 3, "_meta": _META}},
    {"method": "tools/call", "params": {"name": "echo"}},
    {"method": "tools/call", "params": {"name": "echo", "_meta": {}}},
    {"method": 7, "params": {"_meta": _META}},
    {"method": "tools/list"},
]
_VERSIONS = [None, b"2026-07-28", b" 2026-07-28\t", b"2025-11-25", b""]
_METHODS = [None, b"tools/call", b"tools/list", b" resources/read ", b"prompts/get", b"x"]
_NAMES = [None, b"echo", b"file:///a", b"=?base64?ZWNobw==?=", b"=?base64?!!?=", b"other", b""]


def _param_headers(name: str) -> dict[str, tuple[str, ...]] | None:
    return {"Q": ("q",)} if name == "echo" else None


def _header_sets() -> list[list[tuple[bytes, bytes]]]:
    """Every combination of the mirrored headers, each sent or left out."""
    return [
        [
            (key, value)
            for key, value in [
                (b"mcp-protocol-version", version),
                (b"mcp-method", method),
                (b"mcp-name", name),
                (b"mcp-param-q", param),
            ]
            if value is not None
        ]
        for version, method, name, param in itertools.product(
            _VERSIONS, _METHODS, _NAMES, [None, b"x", b"y"]
        )
    ]


@pytest.mark.parametrize("shape", _BODIES)
def test_quick_path_answers_as_the_full_check(shape: dict[str, Any]) -> None:
    found = read_mirrored(msgspec.json.encode({"jsonrpc": "2.0", "id": 1, **shape}))
    assert found is not None
    memos = MirrorMemos()  # (a server's: what one set of headers taught it serves the next)
    for headers in _header_sets():
        each = distinct(headers)
        assert each is not None
        for params in (None, _param_headers):
            full = mirror_problem(headers, found, params, check_revision=True)
            for remembered in (None, memos):
                quick = mirror_problem(
                    headers, found, params, check_revision=True, each=each, memos=remembered
                )
                assert (quick and (quick.code, quick.message)) == (
                    full and (full.code, full.message)
                )


_TASK_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "progressToken": 5}
#: Bodies as the protocol session decodes them: their params into the method's type (the
#: server's for tools/call, which keeps the arguments raw), as `MirrorCheck.request` sees them.
_DECODED: list[dict[str, Any]] = [
    *_BODIES,
    {"method": "tasks/get", "params": {"taskId": "t1", "_meta": _TASK_META}},
    {"method": "resources/read", "params": {"uri": 5, "_meta": _META}},
    {"method": "tools/call", "params": {"name": "echo", "_meta": {**_META, "x": [1, {}]}}},
]


def _params_type(method: str) -> type | None:
    from mcpkit.server.catalog.calling.tool_calls import MODERN_PARAM_TYPES
    from mcpkit.types.methods import methods_for

    if method in MODERN_PARAM_TYPES:
        return MODERN_PARAM_TYPES[method]
    info = methods_for("2026-07-28").get(method)
    return None if info is None else info.params


@pytest.mark.parametrize("shape", _DECODED)
def test_the_sessions_check_answers_as_the_full_check(shape: dict[str, Any]) -> None:
    """`MirrorCheck.request`, given the params the session decoded, refuses as `mirror_problem`
    does over `read_mirrored`'s fields (and, where the params do not decode, `rest` answers
    the body as it would), whatever the headers."""
    from mcpkit.protocol import jsonrpc
    from mcpkit.transports.http.mirrored import error_body
    from mcpkit.transports.http.own_calls import MirrorCheck

    data = msgspec.json.encode({"jsonrpc": "2.0", "id": 1, **shape})
    found = read_mirrored(data)
    assert found is not None
    method = shape["method"]
    kind = _params_type(method) if isinstance(method, str) else None
    try:
        raw = msgspec.json.encode(shape.get("params", {}))
        params = None if kind is None else jsonrpc.decode_part(kind, msgspec.Raw(raw))
    except msgspec.ValidationError:
        params = None
    memos = {ph: MirrorMemos(ph) for ph in (None, _param_headers)}
    for headers in _header_sets():
        for each in (distinct(headers), None):
            for param_headers in (None, _param_headers):
                full = mirror_problem(headers, found, param_headers, check_revision=True)
                check = MirrorCheck(data, headers, memos[param_headers], each)
                if params is not None:
                    got = check.request(1, method, params)
                    assert (got and (got.code, got.message)) == (full and (full.code, full.message))
                    assert check.rest() is None  # (asked once)
                else:
                    assert check.rest() == (full and error_body(1, full))
