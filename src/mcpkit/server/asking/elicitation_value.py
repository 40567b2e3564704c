"""One-value form elicitations: `ctx.elicit(message, int)` or `ctx.elicit(message, ["red",
"green"])` asked as a form of one property, `value` (client/elicitation, "Requested Schema":
a form is a flat object, so a lone value needs a property), and the answer read back as the
value itself."""

from __future__ import annotations

import datetime
import enum
import inspect
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final

import msgspec

from mcpkit.server.elicitation_checks import check_requested_schema
from mcpkit.server.elicitation_schema import property_schema
from mcpkit.server.schemas._fields import read_parameter

__all__ = ["VALUE_PROPERTY", "read_value", "value_hint", "value_schema"]

#: The one property of a one-value form (FastMCP's name for it too).
VALUE_PROPERTY: Final = "value"
#: The scalar types asked as one value: those `elicitation_schema` can make a form property of.
_SCALARS: Final = (str, int, float, bool, datetime.date, datetime.datetime)


def value_hint(schema: object) -> Any | None:
    """The hint a one-value elicitation reads its answer as, or None when `schema` is a form
    (a class of fields, or a raw JSON Schema dict). A list or tuple of strings is a choice
    between them, read as `str`."""
    if isinstance(schema, (list, tuple)):
        choices = typing.cast("Sequence[object]", schema)
        if not choices or not all(isinstance(c, str) for c in choices):
            raise TypeError(
                f"elicitation choices must be a non-empty list of strings, got {schema!r}"
            )
        # A Literal built at run time, so the answer is read back through the same path as a
        # declared `Literal[...]` and one outside the choices is refused.
        return typing.Literal[tuple(choices)]
    # Annotated is peeled only to decide; the hint returned keeps its metadata, which
    # `_translated` turns into the constraints checked on the answer.
    base = schema
    while typing.get_origin(base) is Annotated:
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is typing.Literal or (
        isinstance(base, type) and (issubclass(base, enum.Enum) or base in _SCALARS)
    ):
        return _translated(schema)
    return None


def _translated(hint: Any) -> Any:
    """`hint` with pydantic's Field and annotated_types constraints as msgspec.Meta, checked
    in the schema and when the answer is read (`Annotated[int, Field(gt=0)]`)."""
    label = "the elicited value"
    spec = read_parameter(VALUE_PROPERTY, hint, inspect.Parameter.empty, coerce=True, label=label)
    # The one property is required, so a Field default would never be used; an alias would
    # rename the property `read_value` looks for. Refused, rather than quietly ignored.
    if spec.filled or spec.wire_name != VALUE_PROPERTY:
        raise TypeError(f"{label}: a Field default or alias has no meaning for one value")
    return spec.hint


def value_schema(hint: Any) -> dict[str, Any]:
    """The `requestedSchema` asking for one value of `hint`, as the one required property.

    Required, because `read_value` has nothing to return without it; checked like any other
    form, so a hint `property_schema` turned into something outside the subset fails here,
    before the ask, and not at the client."""
    schema = {
        "type": "object",
        "properties": {VALUE_PROPERTY: property_schema(VALUE_PROPERTY, hint)},
        "required": [VALUE_PROPERTY],
    }
    check_requested_schema(schema)
    return schema


def read_value(hint: Any, content: Mapping[str, Any]) -> Any:
    """The accepted answer as a value of `hint`; ValueError naming what was wrong."""
    # The schema required it, but a client's form may not have enforced that.
    if VALUE_PROPERTY not in content:
        raise ValueError(f"field `{VALUE_PROPERTY}` is required")
    try:
        return msgspec.convert(content[VALUE_PROPERTY], hint, strict=False)
    except msgspec.ValidationError as exc:
        raise ValueError(f"field `{VALUE_PROPERTY}`: {exc}") from None
