"""OpenAPI schemas as self-contained JSON Schema 2020-12: local `$ref`s inlined, 3.0 upgraded.

A schema that refers to itself (directly or through others) cannot be inlined: it is kept
once under the result's `$defs` and every use of it becomes `{"$ref": "#/$defs/<name>"}`,
which a caller hoists to the root of the schema it builds; so is one of more than
`SHARE_NODES` nodes (a long `enum`, a large object shared by many properties), kept once
per tool however often the tool uses it, and every schema met after `INLINE_BUDGET`
references were inlined. `allOf`/`oneOf`/`anyOf` stay as they are.

OpenAPI 3.0's own dialect is rewritten as 3.1 (JSON Schema 2020-12) says it:
`nullable: true` becomes a `"null"` type (or an `anyOf` with one where there is no type),
boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric keywords, `example`
becomes `examples`. OpenAPI-only keywords that mean nothing to a JSON Schema reader
(`discriminator`, `xml`, `externalDocs`) are dropped.

The document sizes this work, and inlining multiplies it: a schema shared by every
operation is copied into each tool, a `$ref` fan-out grows as a power of its depth. So one
reader counts every node it writes, each inlined copy again (values such as an `enum`'s
by their elements), and stops at `max_schema_nodes` (`MAX_SCHEMA_NODES` by default) with
an error naming the setting, before the work or the `tools/list` it would make passes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from mcpkit._extras import needs_extra

with needs_extra("openapi", "mcpkit.openapi (which looks up $refs with it)"):
    from referencing import Registry, Resource
    from referencing.exceptions import Unresolvable

from mcpkit.openapi.exceptions import OpenApiSpecError

__all__ = [
    "INLINE_BUDGET",
    "MAX_SCHEMA_NODES",
    "SHARE_NODES",
    "Definitions",
    "SchemaReader",
    "as_list",
    "as_object",
    "pointer",
]

# Keywords whose value is one subschema, a list of them, or a map of name -> subschema.
_ONE: Final = frozenset(
    "items additionalProperties not contains propertyNames if then else unevaluatedItems "
    "unevaluatedProperties additionalItems contentSchema".split()
)
_MANY: Final = frozenset("allOf anyOf oneOf prefixItems".split())
_MAP: Final = frozenset("properties patternProperties $defs definitions dependentSchemas".split())
_DROPPED: Final = frozenset({"discriminator", "xml", "externalDocs"})
#: How many references one schema inlines before it keeps the rest under `$defs`.
INLINE_BUDGET: Final = 500
#: A schema of more nodes than this is kept once under `$defs` rather than inlined.
SHARE_NODES: Final = 64
#: How many nodes the schemas of one document may come to once converted, inlined copies
#: counted again (`build_routes(max_schema_nodes=)`): about 30 MiB of `tools/list`.
MAX_SCHEMA_NODES: Final = 1_000_000
# The URI the document is known by to the resolver (its `$ref`s are all local).
_BASE: Final = "urn:mcpkit:openapi-document"
_MISSING: Final = object()
# A chain of `$ref`s to `$ref`s longer than this is a loop of references to nothing.
_MAX_HOPS: Final = 64


def as_object(value: object) -> Mapping[str, Any] | None:
    """`value` as a JSON object, or `None` when it is something else."""
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else None


def as_list(value: object) -> list[Any] | None:
    """`value` as a JSON array, or `None` when it is something else."""
    if not isinstance(value, list):
        return None
    return list(cast(list[object], value))


def pointer(*parts: str | int) -> str:
    """The JSON pointer (RFC 6901) of a place in the document, for error messages."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped)


def _child(where: str, *parts: str | int) -> str:
    return where + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Definitions:
    """The schemas kept under `$defs` while building one schema, by the name each is kept
    under: the recursive ones, the large ones (over `SHARE_NODES` nodes, such as a long
    `enum`), and every one met once `INLINE_BUDGET` references have been inlined. Each is
    kept once per tool and referred to from every place that uses it, where inlining would
    copy it into each (a document whose schemas share parts widely would otherwise grow
    without bound)."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._names: dict[str, str] = {}
        self._taken: set[str] = set()
        self.recursive: set[str] = set()
        self.inlined = 0
        #: nodes of the schemas kept here, so a schema's own size leaves theirs out
        self.kept_nodes = 0
        #: how many `$ref`s to each kept name were written
        self.uses: dict[str, int] = {}

    def name_of(self, ref: str) -> str:
        """A `$defs` name for a reference: its last segment, numbered when two collide."""
        known = self._names.get(ref)
        if known is not None:
            return known
        base = ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") or "schema"
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._names[ref] = name
        self._taken.add(name)
        return name

    def reference(self, name: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """A use of the schema kept as `name`, with the keywords written beside the `$ref`."""
        self.uses[name] = self.uses.get(name, 0) + 1
        return {"$ref": f"#/$defs/{name}", **extra}

    def is_recursive(self, name: str) -> bool:
        return any(self._names.get(ref) == name for ref in self.recursive)


class SchemaReader:
    """Reads the schemas and `$ref`-able objects of one document."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        openapi_30: bool,
        max_nodes: int = MAX_SCHEMA_NODES,
    ) -> None:
        self.document = document
        self.openapi_30 = openapi_30
        self.max_nodes = max_nodes
        self.nodes = 0  # written so far, over every schema of the document
        # References are looked up by `referencing` (python-jsonschema's resolver): JSON
        # pointers with their escapes and percent-encoding (`#/paths/~1pets~1%7Bid%7D`), as
        # RFC 6901 and 3986 spell them. The document is opaque to it (an OpenAPI document is
        # not a schema); what this module adds is the inlining and the 3.0 upgrade.
        registry = Registry[Any]().with_resource(_BASE, Resource[Any].opaque(document))
        self._resolver = registry.resolver(_BASE)
        # (a reference met again, as shared schemas are in every operation, is not looked
        # up again: the resolver's lookup is the conversion's costliest step)
        self._found: dict[str, Any] = {}

    def lookup(self, ref: object, where: str) -> Any:
        """The value a local `$ref` points to; anything else is refused, naming `where`."""
        if not isinstance(ref, str):
            raise OpenApiSpecError(where, f"$ref must be a string, not {ref!r}")
        if not ref.startswith("#"):
            raise OpenApiSpecError(
                where,
                f"the external $ref {ref!r} is not supported: bundle the document into one "
                "file (every $ref starting with '#') first",
            )
        found = self._found.get(ref, _MISSING)
        if found is not _MISSING:
            return found
        try:
            found = self._found[ref] = self._resolver.lookup(ref).contents
        except Unresolvable:
            raise OpenApiSpecError(
                where, f"$ref {ref!r} points to nothing in the document"
            ) from None
        return found

    def resolve(self, node: Any, where: str) -> tuple[Mapping[str, Any], str]:
        """A parameter, request body or response with its `$ref`s followed, and its place."""
        for _ in range(_MAX_HOPS):
            found = as_object(node)
            if found is None:
                raise OpenApiSpecError(where, f"expected an object, found {node!r}")
            if "$ref" not in found:
                return found, where
            ref: object = found["$ref"]
            node = self.lookup(ref, where)
            where = str(ref)
        raise OpenApiSpecError(where, "a chain of $refs that never ends")

    def schema(self, node: Any, where: str, defs: Definitions) -> Any:
        """`node` as JSON Schema 2020-12 with local references inlined (see the module)."""
        return self._convert(node, where, (), defs)

    def _count(self, where: str, nodes: int) -> None:
        self.nodes += nodes
        if self.nodes > self.max_nodes:
            raise OpenApiSpecError(
                where,
                f"the document's schemas come to more than {self.max_nodes} nodes once their "
                "$refs are inlined into each operation (max_schema_nodes, default "
                f"{MAX_SCHEMA_NODES}): share less, or raise max_schema_nodes if the tools "
                "really are that large",
            )

    def _count_value(self, where: str, value: object) -> None:
        """Count a value copied as it is (an `enum`, a `default`, `examples`): each of its
        nodes, stopping at the budget."""
        pending: list[object] = [value]
        while pending:
            item = pending.pop()
            self._count(where, 1)
            if (members := as_object(item)) is not None:
                pending.extend(members.values())
            elif (items := as_list(item)) is not None:
                pending.extend(items)

    def _convert(self, node: Any, where: str, stack: tuple[str, ...], defs: Definitions) -> Any:
        self._count(where, 1)
        if isinstance(node, bool):
            return node
        schema = as_object(node)
        if schema is None:
            raise OpenApiSpecError(where, f"a schema must be an object, found {node!r}")
        if "$ref" in schema:
            return self._convert_ref(schema, where, stack, defs)
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DROPPED:
                continue
            at = _child(where, key)
            if key in _ONE:
                out[key] = self._convert(value, at, stack, defs)
            elif key in _MANY and (items := as_list(value)) is not None:
                out[key] = [
                    self._convert(v, _child(at, i), stack, defs) for i, v in enumerate(items)
                ]
            elif key in _MAP and (members := as_object(value)) is not None:
                out[key] = {
                    k: self._convert(v, _child(at, k), stack, defs) for k, v in members.items()
                }
            else:
                if not isinstance(value, str | int | float | None):
                    self._count_value(at, value)
                out[key] = value
        return _upgrade_30(out) if self.openapi_30 else out

    def _convert_ref(
        self, node: Mapping[str, Any], where: str, stack: tuple[str, ...], defs: Definitions
    ) -> Any:
        ref = str(node["$ref"])
        # 3.0 ignores a $ref's siblings; 3.1 applies them beside it.
        siblings = {} if self.openapi_30 else {k: v for k, v in node.items() if k != "$ref"}
        extra: dict[str, Any] = self._convert(siblings, where, stack, defs) if siblings else {}
        name = defs.name_of(ref)
        if ref in stack:
            defs.recursive.add(ref)
            return defs.reference(name, extra)
        if len(stack) > _MAX_HOPS:
            raise OpenApiSpecError(where, "schemas nested too deeply")
        if name in defs.schemas:  # kept once already: referred to, not copied
            return defs.reference(name, extra)
        before, kept_before = self.nodes, defs.kept_nodes
        body = self._convert(self.lookup(ref, where), ref, (*stack, ref), defs)
        size = self.nodes - before - (defs.kept_nodes - kept_before)
        if ref in defs.recursive or size > SHARE_NODES or defs.inlined >= INLINE_BUDGET:
            defs.schemas[name] = body
            defs.kept_nodes += size
            return defs.reference(name, extra)
        defs.inlined += 1
        if not extra:
            return body
        inlined = as_object(body)
        if inlined is not None and not set(inlined) & set(extra):
            return {**inlined, **extra}
        # keywords on both sides: both apply, as they would beside the $ref
        return {"allOf": [body], **extra}


def _upgrade_30(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0's schema keywords rewritten as JSON Schema 2020-12 says them."""
    if "example" in schema:
        schema.setdefault("examples", [schema.pop("example")])
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(schema.get(flag), bool):
            if schema.pop(flag) and bound in schema:
                schema[flag] = schema.pop(bound)
    if schema.pop("nullable", False) is not True:
        return schema
    kind = schema.get("type")
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            schema["type"] = [*kind, "null"]
    else:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema
