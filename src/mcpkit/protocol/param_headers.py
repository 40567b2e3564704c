"""The rules of the request headers a 2026-07-28 HTTP request mirrors from its body, shared by
the client that writes them and the server that checks them (spec: basic/transports/
streamable-http, "Request Metadata", "Value Encoding", SEP-2243). Pure functions, no I/O.

- `NAMED_BY`: the params field that `Mcp-Name` mirrors, by method.
- `HEADER_TOKEN`: what an HTTP header name (an `x-mcp-header` value) may be (RFC 9110 tchar).
- `encode_value` / `decode_value`: a value as it travels in a header, as is when it is plain
  visible ASCII, else `=?base64?...?=` of its UTF-8.
- `value_at`: the argument at a path of `properties` keys.
- `declared_param_headers`: the arguments a tool's input schema marks to be mirrored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

__all__ = [
    "HEADER_TOKEN",
    "NAMED_BY",
    "declared_param_headers",
    "decode_value",
    "encode_value",
    "value_at",
]

#: The methods whose request names an item in `Mcp-Name`, and the params field that holds it.
NAMED_BY: Final[Mapping[str, str]] = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
}
#: RFC 9110 section 5.6.2: a header name is 1*tchar.
HEADER_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# The sentinel is case-sensitive and exact ("Value Encoding"): written and matched as is.
_PREFIX: Final = "=?base64?"
_SUFFIX: Final = "?="
_PLAIN: Final = re.compile(r"[\x20-\x7e]*")  # visible ASCII and space
_FIELD_TEXT: Final = re.compile(r"[\t\x20-\x7e]*")  # and tab, inside a header's value
# RFC 9110's optional whitespace around a field value, which proxies may add or drop.
_OWS: Final = b" \t"


def encode_value(value: str) -> str:
    """`value` as a header carries it: as is when it is plain ASCII without leading or
    trailing whitespace and does not look like the sentinel, else base64 of its UTF-8.

    Leading or trailing whitespace is encoded because HTTP strips it in transit, and the
    server compares the header with the body exactly; a plain value shaped like the
    sentinel is encoded so it cannot be read back as base64 ("Value Encoding").
    """
    plain = (
        _PLAIN.fullmatch(value) is not None
        and value == value.strip(" \t")
        and not (value.startswith(_PREFIX) and value.endswith(_SUFFIX))
    )
    if plain:
        return value
    return _PREFIX + base64.b64encode(value.encode()).decode("ascii") + _SUFFIX


def decode_value(raw: bytes) -> str | None:
    """A header value as the body has it: the optional whitespace around it dropped, the
    `=?base64?...?=` form decoded (strict: padding and alphabet checked), else taken
    literally; None when it is invalid."""
    text = raw.strip(_OWS)
    try:
        value = text.decode("ascii")
    except UnicodeDecodeError:
        return None
    # Control characters in a received value are refused, never passed on: they have no
    # place in a header and would let a forged value split a log line.
    if _FIELD_TEXT.fullmatch(value) is None:
        return None
    # 11 = the prefix and suffix alone: shorter text that starts and ends so (`=?base64?=`)
    # overlaps them and is taken literally.
    if value.startswith(_PREFIX) and value.endswith(_SUFFIX) and len(value) >= 11:
        encoded = value[len(_PREFIX) : -len(_SUFFIX)]
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value


def value_at(arguments: Any, path: Sequence[str]) -> Any:
    """The value at `path` (property names) in `arguments`; None where there is none.

    Never raises on a malformed body: no value at the path means no header ("Schema
    Extension"), whatever the arguments hold instead.
    """
    node: Any = arguments
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = cast("Mapping[str, Any]", node).get(part)
    return node


def declared_param_headers(input_schema: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The arguments a tool mirrors into `Mcp-Param-{Name}` headers: each `x-mcp-header` on a
    property reached from the schema's root through `properties` alone, by its path.

    Only the `properties` chain is walked, as "Schema Extension" requires: a value under
    `items`, `oneOf` or `$ref` has no single place in the arguments to read it from. The
    other rules (token syntax, primitive types) are checked where tool schemas are checked
    (`server.catalog.tool_schemas`) and where the client writes the headers.
    """
    found: dict[str, tuple[str, ...]] = {}

    def walk(schema: Mapping[str, Any], path: tuple[str, ...]) -> None:
        properties: Any = schema.get("properties")
        if not isinstance(properties, dict):
            return
        for key, sub in cast("dict[str, Any]", properties).items():
            if not isinstance(sub, dict):
                continue
            prop = cast("dict[str, Any]", sub)
            name = prop.get("x-mcp-header")
            if isinstance(name, str) and name:
                found[name] = (*path, key)
            walk(prop, (*path, key))

    walk(input_schema, ())
    return found
