"""Type-hint plumbing for the schema builders: resolving annotations, msgspec schema
components with one shared `$defs`, and pydantic models when the user has loaded pydantic."""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any, Final, cast

import msgspec
import msgspec.inspect

from mcpkit.server._stdtypes import add_formats, decode_std, encode_std, std_schema

__all__ = [
    "REF_TEMPLATE",
    "dec_hook",
    "enc_hook",
    "inline_root",
    "is_pydantic_model",
    "resolve_hints",
    "schema_components",
    "type_name",
    "unwrap_callable",
]

REF_TEMPLATE: Final = "#/$defs/{name}"
_ANY: Final = "x-mcpkit-any"
_FRAMES_SEARCHED: Final = 8
_ENUM_TYPES: Final[dict[frozenset[type], str]] = {
    frozenset({str}): "string",
    frozenset({int}): "integer",
    frozenset({int, float}): "number",
    frozenset({float}): "number",
    frozenset({bool}): "boolean",
}


# ------------------------------------------------------------------ pydantic, if loaded


def is_pydantic_model(tp: object) -> bool:
    # Never imported here: a model class in a hint means the user already loaded pydantic.
    module = sys.modules.get("pydantic")
    base = getattr(module, "BaseModel", None)
    return base is not None and isinstance(tp, type) and issubclass(tp, base)


def dec_hook(tp: Any, obj: Any) -> Any:
    if tp is object:  # any JSON value, as it is
        return obj
    std = decode_std(tp, obj)
    if std is not NotImplemented:
        return std
    if not is_pydantic_model(tp):
        raise NotImplementedError
    try:
        return tp.model_validate(obj)
    except ValueError as exc:  # pydantic.ValidationError: one line per error, no URLs
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise
        found = cast("list[dict[str, Any]]", errors())
        lines = [f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in found]
        raise ValueError("; ".join(lines)) from None


def enc_hook(obj: Any) -> Any:
    std = encode_std(obj)
    if std is not NotImplemented:
        return std
    if is_pydantic_model(obj.__class__):
        return obj.model_dump(mode="json", by_alias=True)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


# ------------------------------------------------------------------ schemas


def schema_components(types: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """msgspec's schemas for `types` and their shared `$defs`, pydantic models hoisted in."""
    hoisted: dict[str, Any] = {}

    def hook(tp: Any) -> dict[str, Any]:
        if tp is object:  # `dict[str, object]`, `list[object]`: any JSON value, as `Any`
            return {_ANY: True}  # msgspec refuses an empty schema from a hook; _tidy drops it
        std = std_schema(tp)
        if std is not None:
            return std
        if not is_pydantic_model(tp):
            raise TypeError(
                f"no JSON Schema for {tp!r}: use builtins, dataclasses, TypedDict, "
                "msgspec.Struct, enums, Literal, or the datetime, uuid, decimal, pathlib "
                "and ipaddress types"
            )
        schema = tp.model_json_schema(ref_template=REF_TEMPLATE.replace("{name}", "{model}"))
        hoisted.update(schema.pop("$defs", {}))
        hoisted[tp.__name__] = schema
        return {"$ref": REF_TEMPLATE.format(name=tp.__name__)}

    schemas, components = msgspec.json.schema_components(
        types, schema_hook=hook, ref_template=REF_TEMPLATE
    )
    defs = {**hoisted, **components}
    for schema, info in zip(schemas, msgspec.inspect.multi_type_info(types), strict=True):
        add_formats(schema, info, defs)
    _tidy(defs)
    _tidy(schemas)
    return list(schemas), defs


def _tidy(node: object) -> None:
    """Add the `type` msgspec leaves out beside `enum` (Literal, Enum), since some model
    providers reject an enum without one; drop the marker of `object` (any value)."""
    if isinstance(node, dict):
        schema = cast("dict[str, Any]", node)
        schema.pop(_ANY, None)
        values: Any = schema.get("enum")
        if isinstance(values, list) and values and "type" not in schema:
            kinds = frozenset(type(v) for v in cast("list[object]", values))
            kind = _ENUM_TYPES.get(kinds)
            if kind is not None:
                schema["type"] = kind
        for child in schema.values():
            _tidy(child)
    elif isinstance(node, (list, tuple)):
        for child in cast("list[Any]", node):
            _tidy(child)


def inline_root(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Put the definition a lone root `$ref` points to at the root; keep `$defs` beside it."""
    root = schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and len(schema) == 1:
        name = ref.rsplit("/", 1)[1]
        root = dict(defs[name])
        if msgspec.json.encode(ref) not in msgspec.json.encode(defs):
            del defs[name]  # kept only when something (recursion) still points to it
    if defs:
        root["$defs"] = defs
    return root


def type_name(tp: object) -> str:
    """How messages name a type or function: its `__name__`, else its repr."""
    return getattr(tp, "__name__", None) or repr(tp)


def unwrap_callable(fn: Callable[..., Any]) -> Any:
    """The object whose annotations and docstring describe `fn`."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)) and callable(fn):
        call = type(fn).__call__  # a callable object: its method has the hints
        if inspect.isfunction(call):
            return call
    return fn


def _outer_names(target: Any) -> dict[str, Any]:
    """Names local to the functions around `target`: its closure, then the frames of
    the callers of `build_signature`, innermost first. Only names the module does not
    define: a caller's local must never shadow a global."""
    module_names = getattr(target, "__globals__", {})
    namespace: dict[str, Any] = {}
    code = getattr(target, "__code__", None)
    closure = getattr(target, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars if code else (), closure, strict=False):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    frame = inspect.currentframe()
    for _ in range(3):  # this function, resolve_hints, build_signature
        frame = frame.f_back if frame is not None else None
    for _ in range(_FRAMES_SEARCHED):
        if frame is None:
            break
        for name, value in frame.f_locals.items():
            if name not in module_names:
                namespace.setdefault(name, value)
        frame = frame.f_back
    del frame
    return namespace


def resolve_hints(target: Any) -> dict[str, Any]:
    """Resolve string annotations; classes local to an enclosing function are found in
    its closure or in its callers' frames (where a decorator runs), as pydantic does.

    An annotation that still names something unknown (say, imported only under
    TYPE_CHECKING) is left as its string, for the caller to judge.
    """
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError:
        pass
    namespace = _outer_names(target)
    try:
        return typing.get_type_hints(target, localns=namespace, include_extras=True)
    except NameError:
        pass
    module_names = dict(getattr(target, "__globals__", {}))
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        hints[name] = annotation
        if isinstance(annotation, str):
            try:  # one by one, as get_type_hints itself evaluates them
                hints[name] = eval(annotation, module_names, namespace)
            except NameError:
                continue
    return hints
