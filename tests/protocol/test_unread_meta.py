"""Params whose `_meta` stays undecoded until read (`mcpkit.protocol.unread_meta`): a twin of
the params type that shows, compares, copies and encodes as the type does, whose `meta` is
the dict the type's own decode makes, and which only types that already hold raw JSON get."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from mcpkit.protocol.jsonrpc import decode_part
from mcpkit.protocol.unread_meta import UNREAD_TYPES, unread_type_of, unread_types
from mcpkit.server.catalog.calling.tool_calls import ModernCallToolParams
from mcpkit.types import CallToolRequestParams, ReadResourceRequestParams
from mcpkit.types._gen_2026_07_28 import CallToolRequestParams as ModernCallToolRequestParams

BODY = b'{"name":"t","arguments":{"a":1},"_meta":{"k":[1,{"n":null}],"s":"x"}}'


def both() -> tuple[Any, ModernCallToolParams]:
    twin = decode_part(unread_type_of(ModernCallToolParams), BODY)
    return twin, msgspec.json.decode(BODY, type=ModernCallToolParams)


def test_the_meta_is_read_when_asked_and_kept() -> None:
    twin, real = both()
    assert type(twin) in UNREAD_TYPES and isinstance(twin, ModernCallToolParams)
    assert type(msgspec.structs.asdict(twin)["meta"]) is msgspec.Raw  # (not read yet)
    meta = twin.meta
    assert meta == real.meta and type(meta) is dict
    assert twin.meta is meta and twin.meta is meta  # (read once, then kept)
    twin.meta = {"other": 1}
    assert twin.meta == {"other": 1}


def test_a_twin_shows_compares_copies_and_encodes_as_the_type() -> None:
    twin, real = both()
    assert repr(twin) == repr(real).replace(repr(real.arguments), repr(twin.arguments))
    twin, real = both()
    assert twin == real and real == twin and not (twin != real) and not (real != twin)
    assert msgspec.json.encode(both()[0]) == msgspec.json.encode(real)
    replaced = msgspec.structs.replace(both()[0], name="u")
    assert replaced.meta == real.meta and replaced.name == "u"
    copied = copy.copy(both()[0])
    assert copied.meta == real.meta
    other, _ = both()
    other.meta["s"] = "y"
    assert other != real and not (other == real) and other != 5


@pytest.mark.parametrize(
    ("tp", "body"),
    [
        (ModernCallToolRequestParams, b'{"name":"t","arguments":{},"_meta":{}}'),  # (no Raw)
        (CallToolRequestParams, b'{"name":"t","_meta":{}}'),  # (2025: `_meta` optional)
        (ReadResourceRequestParams, b'{"uri":"x://y","_meta":{}}'),
        (dict[str, Any], b'{"_meta":{}}'),
    ],
)
def test_types_without_raw_json_are_decoded_as_they_are(tp: Any, body: bytes) -> None:
    assert unread_type_of(tp) is tp
    found = decode_part(unread_type_of(tp), body)
    assert type(found) not in UNREAD_TYPES
    assert found == decode_part(tp, body)
    assert (found["_meta"] if isinstance(found, dict) else found.meta) == {}


def test_a_sessions_param_types_get_their_twins_once() -> None:
    given = {"tools/call": ModernCallToolParams, "resources/read": ReadResourceRequestParams}
    unread = unread_types(given)
    assert unread["tools/call"] in UNREAD_TYPES
    assert unread["resources/read"] is ReadResourceRequestParams  # (no twin: no raw JSON)
    assert unread_types(given) is unread  # (the same mapping given: the same answer)
    assert unread_types(dict(given)) == unread
