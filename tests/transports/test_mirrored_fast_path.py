"""The mirrored-header check's quick path (headers by name, each one once) answers as the full
walk over the headers does: the same refusal, or none, for headers that agree with the body,
differ from it in any one way, or come with whitespace or in the base64 form."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

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


@pytest.mark.parametrize("shape", _BODIES)
def test_quick_path_answers_as_the_full_check(shape: dict[str, Any]) -> None:
    found = read_mirrored(msgspec.json.encode({"jsonrpc": "2.0", "id": 1, **shape}))
    assert found is not None
    for version, method, name, param in itertools.product(
        _VERSIONS, _METHODS, _NAMES, [None, b"x", b"y"]
    ):
        headers = [
            (key, value)
            for key, value in [
                (b"mcp-protocol-version", version),
                (b"mcp-method", method),
                (b"mcp-name", name),
                (b"mcp-param-q", param),
            ]
            if value is not None
        ]
        each = distinct(headers)
        assert each is not None
        for params in (None, _param_headers):
            quick = mirror_problem(headers, found, params, check_revision=True, each=each)
            full = mirror_problem(headers, found, params, check_revision=True)
            assert (quick and (quick.code, quick.message)) == (full and (full.code, full.message))
