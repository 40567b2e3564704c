"""Return hints to tool output schemas, and return values to structured content.

Output (server/tools, "Structured Content" and "Output Schema"), from the return hint:

- none, `None`, `Any`, `object`, content blocks or `CallToolResult`: no output schema;
- a list whose items may be anything (`list`, `list[Any]`, `list[object]`, `Sequence[Any]`):
  none either, since its values may be content blocks, which are sent as content alone (a
  schema would promise structured content they do not give);
- `str`: no output schema either: the text is the content (`force=True` wraps it);
- a type whose schema is an object (dataclass, TypedDict, `msgspec.Struct`, pydantic
  model, `dict[str, X]` with any X, `object` and `Any` alike): that schema as it is;
- anything else (numbers, lists, unions, optional objects): wrapped as the one required
  property `result`, since an output schema's root must be an object, and marked as FastMCP
  marks it (`"x-fastmcp-wrap-result": true`), so its client unwraps the value;
- a type msgspec cannot describe: no output schema (`force=True` raises `TypeError`).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, cast

import msgspec

from mcpkit.errors import McpkitError
from mcpkit.server.schemas._annotations import type_name
from mcpkit.server.schemas._coercion import has_non_finite_floats
from mcpkit.server.schemas._fields import read_parameter
from mcpkit.server.schemas._hints import (
    SchemaMode,
    dec_hook,
    enc_hook,
    is_pydantic_model,
    pydantic_parts,
    schema_components,
)
from mcpkit.server.schemas._refs import inline_defs

__all__ = ["WRAP_MARK", "OutputError", "OutputSpec", "output_spec", "schema_for_type"]

#: The output schema keyword that says a non-object value is wrapped as `{"result": value}`.
WRAP_MARK: Final = "x-fastmcp-wrap-result"

# Wire types a tool returns as content rather than as structured data (server/tools).
_CONTENT_NAMES: Final = frozenset(
    "TextContent ImageContent AudioContent ResourceLink EmbeddedResource ContentBlock "
    "CallToolResult".split()
)


class OutputError(McpkitError):
    """A function returned a value that does not fit the output schema of its return hint."""


def schema_for_type(tp: object, *, mode: SchemaMode = "validation") -> dict[str, Any]:
    """The JSON Schema 2020-12 for a type hint: definitions in place, `$defs` (at the
    top level) only for recursive types. `mode` picks pydantic's schema of what a model
    takes ("validation") or of what it dumps ("serialization", as results are sent).

    Raises TypeError for a type msgspec cannot describe.
    """
    schemas, defs = schema_components([tp], mode=mode)
    return inline_defs(schemas[0], defs)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """What a return hint gives a tool: its output schema, and how to make structured content.

    `wrapped` says the schema is `{"result": <schema>}` because the hint's own schema is not
    an object (server/tools, "Output Schema": the root must be an object). `checker` checks
    structured content against the schema itself where pydantic wrote part of it: a model's
    dump (serialization aliases, computed fields) is what its schema describes, not what
    the model would validate.
    """

    annotation: Any
    output_schema: dict[str, Any] | None
    wrapped: bool = False
    checker: Any = field(default=None, repr=False, compare=False)  # a jsonschema_rs validator

    def to_structured(self, value: object, *, check: bool = True) -> dict[str, Any] | None:
        """The `structuredContent` for a returned value, or None without an output schema.

        With `check`, the value is first checked against the hint, since servers MUST
        return structured results that conform (server/tools, "Output Schema"); a mismatch
        raises OutputError naming the JSON path.
        """
        if self.output_schema is None:
            return None
        if self.checker is not None:
            return self._checked_by_schema(value, check)
        try:
            data = msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)
            # Checked as the JSON it will be sent as, against the hint: what a client
            # validates against the schema is this, not the Python object.
            if check:
                msgspec.convert(data, self.annotation, dec_hook=dec_hook)
        except (TypeError, ValueError) as exc:  # msgspec.ValidationError is a ValueError
            raise self._mismatch(str(exc)) from exc
        _refuse_non_finite(data)
        return {"result": data} if self.wrapped else cast(dict[str, Any], data)

    def _checked_by_schema(self, value: object, check: bool) -> dict[str, Any]:
        """`to_structured` where pydantic wrote part of the schema (see `checker`)."""
        try:
            data = msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)
        except (TypeError, ValueError) as exc:
            raise self._mismatch(str(exc)) from exc
        _refuse_non_finite(data)
        structured = {"result": data} if self.wrapped else cast(dict[str, Any], data)
        # Written as msgspec writes its errors (`... - at `$.a[0]``), so that a result is
        # said the same way whichever checked it.
        errors = [
            f"{e.message} - at `$"
            + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.instance_path)
            + "`"
            for e in (self.checker.iter_errors(structured) if check else ())
        ]
        if errors:
            raise self._mismatch("; ".join(errors))
        return structured

    def _mismatch(self, detail: str) -> OutputError:
        """The error for a return value that breaks the tool's own promise: the server's
        fault, not the caller's, so it names the return annotation to fix."""
        return OutputError(
            f"the return value does not match the return annotation "
            f"{type_name(self.annotation)}: {detail}"
        )


def _refuse_non_finite(data: object) -> None:
    """OutputError for NaN or an infinity in structured content: JSON has no number for
    them, and the null an encoder writes instead would break the schema the tool promised."""
    if has_non_finite_floats(data):
        raise OutputError(
            "the return value holds NaN or an infinity, which JSON numbers "
            "cannot carry; return None or a string for them instead"
        )


def _strip_annotated(tp: object) -> object:
    """`tp` without its Annotated layers, for the rules that look at the type alone."""
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_content_like(tp: object) -> bool:
    """Whether `tp` is, or is a union holding, a wire content type: such a value is sent as
    content, which no output schema describes. Matched in `mcpkit.types` only, so a user's
    class that happens to share a name is not taken for one."""
    tp = _strip_annotated(tp)
    if isinstance(tp, type):
        return tp.__module__.startswith("mcpkit.types") and tp.__name__ in _CONTENT_NAMES
    args = typing.get_args(tp)
    return bool(args) and any(_is_content_like(a) for a in args if a is not type(None))


#: The list-like hints whose items a tool may fill with content blocks.
_LISTS: Final = (list, collections.abc.Sequence, collections.abc.MutableSequence)


def _may_hold_content(tp: object) -> bool:
    """A list-like hint whose items may be anything (see the module's docstring)."""
    tp = _strip_annotated(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_may_hold_content(a) for a in args)
    if (origin or tp) not in _LISTS:
        return False
    items = [_strip_annotated(a) for a in args]
    return all(item is Any or item is object for item in items)


def _translated(annotation: object) -> Any:
    """The return hint with pydantic's Field and annotated_types metadata as msgspec
    reads it (in the fields of its classes too); refused where a result cannot honour it."""
    label = "the return annotation"
    spec = read_parameter("return", annotation, inspect.Parameter.empty, coerce=False, label=label)
    if spec.filled or spec.wire_name != "return":
        raise TypeError(f"{label}: a Field default or alias has no meaning for a result")
    if spec.renamed is not None:
        raise TypeError(
            f"field {spec.renamed}: an alias renames an argument, not a field of a result "
            "(a result is sent by its field names); remove the alias from this return type"
        )
    return spec.hint


def output_spec(annotation: object, *, force: bool = False) -> OutputSpec:
    """The output rules of this module's docstring for one return hint.

    `force` (a tool's `structured_output=True`) wraps a `str` and raises TypeError where
    no schema can be made, instead of quietly giving none.
    """
    base = _strip_annotated(annotation)
    if isinstance(base, str):  # an annotation that could not be resolved
        if force:
            raise TypeError(f"cannot resolve the return annotation {base!r}")
        return OutputSpec(annotation, None)
    annotation = _translated(annotation)
    if base in (
        inspect.Parameter.empty,
        None,
        type(None),
        Any,
        object,
        typing.NoReturn,
    ) or _is_content_like(base):
        if force:
            raise TypeError(
                f"the return annotation {type_name(annotation)} gives no output "
                "schema; annotate the function with the type it returns"
            )
        return OutputSpec(annotation, None)
    if (base is str or _may_hold_content(base)) and not force:
        return OutputSpec(annotation, None)
    # "serialization": a result is sent as a model dumps it, not as the model takes it in.
    try:
        schema = schema_for_type(annotation, mode="serialization")
    except TypeError:
        if force:
            raise
        return OutputSpec(annotation, None)
    if schema.get("type") == "object":
        return OutputSpec(annotation, schema, checker=_checker(annotation, schema))
    # Lifted to the root, where the `#/$defs/...` references inside `result` resolve.
    defs = schema.pop("$defs", None)
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {"result": schema},
        "required": ["result"],
        # FastMCP's mark of a wrapped value: its client then gives the caller the value (5),
        # not a model of the wrapper (`Root(result=5)`); any other client ignores the keyword.
        WRAP_MARK: True,
    }
    if defs:
        wrapped["$defs"] = defs
    return OutputSpec(annotation, wrapped, wrapped=True, checker=_checker(annotation, wrapped))


def _refuse_renamed_dump(cls: type) -> None:
    """A pydantic dataclass is sent as msgspec sends any dataclass, by its field names:
    refused where pydantic's dump of it has other names, which its schema would promise."""
    schema = sys.modules["pydantic"].TypeAdapter(cls).json_schema(mode="serialization")
    body = schema.get("$defs", {}).get(cls.__name__, schema)
    dumped = set(body.get("properties", {}))
    fields = {f.name for f in dataclasses.fields(cls)}
    if dumped != fields:
        raise TypeError(
            f"the pydantic dataclass {cls.__name__} is sent by its field names "
            f"({', '.join(sorted(fields))}), but pydantic dumps it as "
            f"{', '.join(sorted(dumped))} (aliases, computed fields); return a pydantic "
            "model instead, which mcpkit dumps with pydantic"
        )


def _checker(annotation: object, schema: dict[str, Any]) -> Any:
    """A validator of the schema where pydantic describes part of the result, else None."""
    parts = pydantic_parts(annotation)
    if not parts:
        return None
    for part in parts:
        if not is_pydantic_model(part):
            _refuse_renamed_dump(part)
    import jsonschema_rs  # a dependency, loaded only for the few tools that need it

    return jsonschema_rs.validator_for(schema)
