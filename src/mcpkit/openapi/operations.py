"""The operations of a document, each with one flat input schema and a map back to the
HTTP request.

Path, query, header and cookie parameters and the body's properties become the properties
of one object schema. Names that collide are resolved so: a body property keeps its name,
and every parameter of that name is renamed `<name>__<location>` (`id__query`,
`id__path`); where no body property has the name, every parameter with it is renamed.
Each `Argument` records where its value goes, so a call maps it back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, cast

from mcpkit.openapi.bodies import (
    RequestBody,
    ResponseShape,
    read_request_body,
    read_response,
)
from mcpkit.openapi.exceptions import OpenApiSpecError
from mcpkit.openapi.schemas import (
    MAX_SCHEMA_NODES,
    Definitions,
    SchemaReader,
    as_list,
    as_object,
    pointer,
)

__all__ = ["Argument", "ArgumentLocation", "Operation", "read_operations"]

ArgumentLocation = Literal["path", "query", "header", "cookie", "body"]

_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Header parameters OpenAPI says to ignore (Parameter Object, "name"): the body's media type,
# the accepted answer and the credentials are the caller's to set, not arguments.
_IGNORED_HEADERS: Final = frozenset({"accept", "content-type", "authorization"})
_PARAM_IN: Final = ("path", "query", "header", "cookie")
# OpenAPI's default `style` for each location (Parameter Object, "style").
_DEFAULT_STYLE: Final = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}


@dataclass(frozen=True)
class Argument:
    """One property of the input schema and where its value goes in the request."""

    name: str
    location: ArgumentLocation
    #: the parameter's or body property's own name; `None` for a whole body
    key: str | None
    required: bool
    schema: Any
    style: str = "simple"
    explode: bool = False
    binary: bool = False
    media_type: str | None = None


@dataclass(frozen=True)
class Operation:
    """One operation of the document, read once."""

    method: str
    path: str
    where: str
    operation_id: str | None
    summary: str | None
    description: str | None
    tags: tuple[str, ...]
    arguments: tuple[Argument, ...]
    body: RequestBody | None
    input_schema: dict[str, Any]
    response: ResponseShape

    @property
    def path_arguments(self) -> tuple[Argument, ...]:
        return tuple(a for a in self.arguments if a.location == "path")


def read_operations(
    spec: Mapping[str, Any], max_schema_nodes: int = MAX_SCHEMA_NODES
) -> list[Operation]:
    """Every operation under `paths`, in document order; their schemas within
    `max_schema_nodes` nodes in all (`schemas`)."""
    openapi_30 = str(spec.get("openapi", "")).startswith("3.0")
    reader = SchemaReader(spec, openapi_30=openapi_30, max_nodes=max_schema_nodes)
    operations: list[Operation] = []
    for path, item in cast(Mapping[str, Any], spec["paths"]).items():
        item_where = pointer("paths", path)
        found = as_object(item)
        if found is None:
            raise OpenApiSpecError(item_where, "a path item must be an object")
        found, item_where = reader.resolve(found, item_where)
        shared: object = found.get("parameters", [])
        for method in _METHODS:
            if method in found:
                where = pointer("paths", path, method)
                operations.append(_read(reader, path, method, found[method], shared, where))
    return operations


def _read(
    reader: SchemaReader, path: str, method: str, node: Any, shared: Any, where: str
) -> Operation:
    if not isinstance(node, Mapping):
        raise OpenApiSpecError(where, "an operation must be an object")
    op = cast(Mapping[str, Any], node)
    defs = Definitions()
    params = _parameters(reader, shared, op.get("parameters", []), where, defs)
    body = read_request_body(reader, op.get("requestBody"), f"{where}/requestBody", defs)
    arguments = _name_arguments(params, body, where)
    out_defs = Definitions()
    response = read_response(reader, op.get("responses"), f"{where}/responses", out_defs)
    if response.schema is not None and out_defs.schemas:
        response.schema["$defs"] = out_defs.schemas
    tags = op.get("tags", [])
    return Operation(
        method=method.upper(),
        path=path,
        where=where,
        operation_id=op.get("operationId"),
        summary=_text(op, "summary", where),
        description=_text(op, "description", where),
        tags=tuple(str(t) for t in as_list(tags) or []),
        arguments=arguments,
        body=body,
        input_schema=_input_schema(arguments, defs),
        response=response,
    )


def _text(op: Mapping[str, Any], key: str, where: str) -> str | None:
    """An operation's `summary` or `description`: a string (they become a title and a
    description, which clients show), else refused naming where."""
    value = op.get(key)
    if value is not None and not isinstance(value, str):
        raise OpenApiSpecError(f"{where}/{key}", f"`{key}` must be a string, not {value!r}")
    return value


def _parameters(
    reader: SchemaReader, shared: Any, own: Any, where: str, defs: Definitions
) -> list[Argument]:
    """The path item's parameters overridden by the operation's (same name and location)."""
    found: dict[tuple[str, str], Argument] = {}
    for group, at in (
        (shared, where.rsplit("/", 1)[0] + "/parameters"),
        (own, f"{where}/parameters"),
    ):
        nodes = as_list(group)
        if nodes is None:
            raise OpenApiSpecError(at, "parameters must be a list")
        for i, node in enumerate(nodes):
            argument = _parameter(reader, node, f"{at}/{i}", defs)
            if argument.location == "header" and str(argument.key).lower() in _IGNORED_HEADERS:
                continue
            found[(argument.location, str(argument.key))] = argument
    return list(found.values())


def _parameter(reader: SchemaReader, node: Any, where: str, defs: Definitions) -> Argument:
    param, where = reader.resolve(node, where)
    name, location = param.get("name"), param.get("in")
    if not isinstance(name, str) or location not in _PARAM_IN:
        raise OpenApiSpecError(
            where, "a parameter needs a `name` and an `in` of " + "/".join(_PARAM_IN)
        )
    raw: object = param.get("schema")
    content = as_object(param.get("content"))
    if raw is None and content:
        raw = (as_object(next(iter(content.values()))) or {}).get("schema", {})
    schema: Any = reader.schema(raw if raw is not None else {}, f"{where}/schema", defs)
    found = as_object(schema)
    if found is not None and "description" in param and "description" not in found:
        schema = {**found, "description": param["description"]}
    style = str(param.get("style", _DEFAULT_STYLE[location]))
    return Argument(
        name=name,
        location=location,
        key=name,
        # path parameters are always required (Parameter Object, "required")
        required=location == "path" or bool(param.get("required", False)),
        schema=schema,
        style=style,
        explode=bool(param.get("explode", style == "form")),
    )


def _name_arguments(
    params: list[Argument], body: RequestBody | None, where: str
) -> tuple[Argument, ...]:
    fields = (
        []
        if body is None
        else [
            Argument(
                name=f.key or "body",
                location="body",
                key=f.key,
                required=f.required,
                schema=f.schema,
                binary=f.binary,
                media_type=f.media_type,
            )
            for f in body.fields
        ]
    )
    counts = Counter(a.name for a in (*params, *fields))
    named = [
        replace(a, name=f"{a.name}__{a.location}") if counts[a.name] > 1 else a for a in params
    ]
    result = (*named, *fields)
    clashes = [n for n, c in Counter(a.name for a in result).items() if c > 1]
    if clashes:
        raise OpenApiSpecError(where, f"arguments still collide after renaming: {clashes}")
    return result


def _input_schema(arguments: tuple[Argument, ...], defs: Definitions) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {a.name: a.schema for a in arguments},
        "additionalProperties": False,
    }
    required = [a.name for a in arguments if a.required]
    if required:
        schema["required"] = required
    if defs.schemas:
        schema["$defs"] = defs.schemas
    return schema
