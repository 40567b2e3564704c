"""Tool arguments that arrive as JSON text (`"{\"a\": 1}"`) where the input schema wants an
object or an array: parsed and validated again, but only once validation has failed.

Many clients send structured arguments that way. A string is parsed only where the schema
accepts no string at all, so a value meant as text is never reinterpreted; the call goes on
only if the arguments so parsed validate, and the log says which argument was parsed.

Nothing here runs for arguments that validate the first time, and a failed retry changes
nothing: the caller answers with its first error, which is about what the client sent.
The schema is the tool's own and may be recursive, so following its `$ref`s and unions
stops at `_MAX_DEPTH` links (past it, a property is taken to accept anything, and is left
alone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, cast

import msgspec

__all__ = ["retry_with_json_strings"]

logger = logging.getLogger("mcpkit.server")  # the tools' logger

T = TypeVar("T")  # what `validate` gives: the tool's keyword arguments, as its caller has them
# The JSON types a string may be parsed into, with the Python type the parse must give.
_STRUCTURED: Final = {"object": dict, "array": list}
_MAX_DEPTH: Final = 32  # of $ref and anyOf/oneOf/allOf links followed: schemas may loop


def retry_with_json_strings(
    tool: str,
    schema: Mapping[str, Any],
    arguments: dict[str, Any] | msgspec.Raw | None,
    validate: Callable[[dict[str, Any]], T],
    refused: type[Exception],
) -> T | None:
    """`validate` of `arguments` with each JSON string parsed where the tool's input schema
    wants an object or array and no string, or None when there is none such or the parsed
    arguments are `refused` too (the caller keeps its first error)."""
    given = _as_object(arguments)
    # Arguments that are not an object have no named values to reread.
    if given is None:
        return None
    properties = schema.get("properties")
    # Only named properties are considered: an `additionalProperties` value has no type
    # here to say that a string is wrong for it.
    if not isinstance(properties, dict):
        return None
    parsed: dict[str, Any] = {}
    for name, value in given.items():
        prop = cast("dict[str, Any]", properties).get(name)
        if isinstance(value, str) and isinstance(prop, dict):
            found = _parsed(value, _kinds(cast("dict[str, Any]", prop), schema, 0))
            if found is not None:
                parsed[name] = found
    if not parsed:
        return None
    # Validated whole, with the same checks as the first try: parsing only widens what
    # reaches the tool to what its schema already allows.
    try:
        result = validate({**given, **parsed})
    except refused:
        return None
    # Said only once the call goes on: a server author can see which clients do this.
    for name in parsed:
        logger.debug("tool %r: argument %r arrived as a JSON string, taken as parsed", tool, name)
    return result


def _as_object(arguments: dict[str, Any] | msgspec.Raw | None) -> dict[str, Any] | None:
    """The arguments as a dict, decoding the raw JSON tools/call may still hold; None for
    anything else, which no retry can help."""
    if isinstance(arguments, msgspec.Raw):
        try:
            arguments = msgspec.json.decode(arguments) if arguments else None
        except msgspec.DecodeError:
            return None
    return arguments if isinstance(arguments, dict) else None


def _parsed(text: str, kinds: frozenset[str] | None) -> Any:
    """What `text` parses to, if the kinds want an object or array that it is."""
    # A property that may take a string keeps it as text: what was sent may mean that.
    if kinds is None or "string" in kinds or not kinds & _STRUCTURED.keys():
        return None
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None
    # `"5"` parses to 5, which no object or array schema wants: only a parse of the wanted
    # shape is used.
    if any(isinstance(value, _STRUCTURED[k]) for k in kinds & _STRUCTURED.keys()):
        return value
    return None


def _kinds(prop: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> frozenset[str] | None:
    """The JSON types a property's schema takes, or None where it may take any (no type
    said, or a link too deep to follow)."""
    if depth > _MAX_DEPTH:
        return None
    ref = prop.get("$ref")
    if isinstance(ref, str):
        target = _resolved(ref, root)
        return None if target is None else _kinds(target, root, depth + 1)
    kind = prop.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(str(k) for k in cast("list[object]", kind))
    # A union takes what any branch takes; one untyped branch makes it take anything.
    for key in ("anyOf", "oneOf"):
        branches = prop.get(key)
        if isinstance(branches, list):
            found: set[str] = set()
            for branch in cast("list[object]", branches):
                kinds = (
                    _kinds(cast("dict[str, Any]", branch), root, depth + 1)
                    if isinstance(branch, dict)
                    else None
                )
                if kinds is None:
                    return None
                found |= kinds
            return frozenset(found)
    return None


def _resolved(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A local `#/$defs/...` (or `#/definitions/...`) reference's schema."""
    node: Any = root
    if not ref.startswith("#/"):
        return None
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return None
        # JSON Pointer escapes (RFC 6901): `~1` is `/` and `~0` is `~`, in that order.
        node = cast("dict[str, Any]", node).get(part.replace("~1", "/").replace("~0", "~"))
    return cast("dict[str, Any]", node) if isinstance(node, dict) else None
