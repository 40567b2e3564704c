"""JSON's number rules where Python's differ: integral floats for strict validation, floats
JSON cannot carry (NaN, infinities) in results, and the input schema a lenient tool
advertises (numbers and booleans also as strings)."""

from __future__ import annotations

import math
from typing import Any, Final, cast

__all__ = [
    "BOOLEAN_STRING",
    "INTEGER_STRING",
    "NUMBER_STRING",
    "has_integral_floats",
    "has_non_finite_floats",
    "integral_floats_as_ints",
    "lenient_schema",
]

# The strings lenient mode converts, in JSON's own number grammar (RFC 8259 section 6):
# exactly what msgspec's lax mode parses, less its spellings of infinity and NaN.
INTEGER_STRING: Final = r"^-?(0|[1-9][0-9]*)$"
NUMBER_STRING: Final = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
BOOLEAN_STRING: Final = r"^(true|false)$"
#: The string a lenient schema also takes for each JSON type; other types stay as they are.
_PATTERNS: Final = {"integer": INTEGER_STRING, "number": NUMBER_STRING, "boolean": BOOLEAN_STRING}
# Keywords about a value rather than its type: kept on the outer schema, where a model
# reads them.
_ANNOTATIONS: Final = ("title", "description", "default", "examples")


def has_integral_floats(value: object) -> bool:
    """Whether `value` holds a float that is a whole number: the case where msgspec refused
    what JSON Schema accepts as an integer, and `FunctionSignature` converts again."""
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(has_integral_floats(v) for v in cast("dict[str, Any]", value).values())
    if isinstance(value, list):
        return any(has_integral_floats(v) for v in cast("list[object]", value))
    return False


def has_non_finite_floats(value: object) -> bool:
    """Whether `value` holds NaN or an infinity, which JSON has no number for (RFC 8259
    section 6): encoders write null, which no number schema accepts."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_non_finite_floats(v) for v in cast("dict[str, Any]", value).values())
    if isinstance(value, list):
        return any(has_non_finite_floats(v) for v in cast("list[object]", value))
    return False


def integral_floats_as_ints(value: Any) -> Any:
    """`value` with every float that is a whole number (3.0, 1e3) as an int. A copy, since
    the first conversion's error is raised from the original when this one fails too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral_floats_as_ints(v) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [integral_floats_as_ints(v) for v in cast("list[object]", value)]
    return value


def lenient_schema(schema: Any) -> Any:
    """`schema` where every integer, number and boolean may also be a string of one, as
    lenient validation accepts (a copy; `schema` is left as it is)."""
    if isinstance(schema, list):
        return [lenient_schema(item) for item in cast("list[object]", schema)]
    if not isinstance(schema, dict):
        return schema
    node = {k: lenient_schema(v) for k, v in cast("dict[str, Any]", schema).items()}
    # Only schemas made from hints come here (`tool_schemas`): msgspec and pydantic write a
    # union as `anyOf`, so a `type` names one JSON type.
    pattern = _PATTERNS.get(node.get("type"))  # type: ignore[arg-type]  # any JSON value
    if pattern is None:
        return node
    outer = {k: node.pop(k) for k in _ANNOTATIONS if k in node}
    return {**outer, "anyOf": [node, {"type": "string", "pattern": pattern}]}
