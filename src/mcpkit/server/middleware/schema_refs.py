"""`DereferenceSchemas`: tools/list with every `$ref` of a tool's input and output schema
written out in place, for clients that cannot follow references; recursive types, which
have no finite expansion, stay references."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from mcpkit.server.middleware.typed import ListNext, TypedMiddleware
from mcpkit.server.schemas._refs import inline_defs, recursive_names

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.types import Tool

__all__ = ["DereferenceSchemas"]

logger = logging.getLogger("mcpkit.server")

#: Where a schema keeps its definitions: 2020-12's `$defs`, and draft-07's `definitions`.
_DEFS: Final = {"$defs": "#/$defs/", "definitions": "#/definitions/"}


class DereferenceSchemas(TypedMiddleware):
    """Every tool that tools/list shows gets its `inputSchema` and `outputSchema` with the
    definitions (`$defs`, or draft-07's `definitions`) they reference written in place. A
    recursive definition stays a `$ref`, kept in `$defs`, and the server logs that once per
    tool (at WARNING). A schema whose expansion would exceed `max_nodes` JSON values (a
    definition used many times inside another used many times grows as their product) is
    shown as it is, and logged. Each schema is worked out once and remembered."""

    def __init__(self, *, max_nodes: int = 10_000) -> None:
        if max_nodes < 1:
            raise ValueError(f"max_nodes must be at least 1, not {max_nodes}")
        self.max_nodes = max_nodes
        # id(schema) -> (schema, its expansion): a tool's wire schema is built once.
        self._done: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        """Only the listing changes: a schema written out means what the one with
        references meant, so calls are checked as before."""
        tools: list[Tool] = await call_next()
        return [self.dereferenced(tool) for tool in tools]

    def dereferenced(self, tool: Tool) -> Tool:
        """`tool` with its schemas' references written out (itself when they have none)."""
        given = tool.input_schema
        input_schema = self.schema(tool.name, given)
        output = tool.output_schema
        output_schema = None if output is None else self.schema(tool.name, output)
        if input_schema is given and output_schema is output:
            return tool
        return msgspec.structs.replace(tool, input_schema=input_schema, output_schema=output_schema)

    def schema(self, tool: str, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` dereferenced (remembered per schema object)."""
        done = self._done.get(id(schema))
        if done is not None and done[0] is schema:
            return done[1]
        result = self._expand(tool, schema)
        if len(self._done) >= 4096:  # (tools made anew per list, by a transform say)
            self._done.clear()
        self._done[id(schema)] = (schema, result)
        return result

    def _expand(self, tool: str, schema: dict[str, Any]) -> dict[str, Any]:
        # Both places are looked in: a schema given by hand, or by another server, may be
        # draft-07's.
        found = [key for key in _DEFS if isinstance(schema.get(key), dict)]
        if not found:
            return schema
        defs: dict[str, Any] = {}
        for key in found:
            defs.update(cast("dict[str, Any]", schema[key]))
        body: dict[str, Any] = {k: v for k, v in schema.items() if k not in _DEFS}
        for key in found:  # every reference, in the body and in the definitions, to `$defs`
            body = _retargeted(body, _DEFS[key])
            defs = _retargeted(defs, _DEFS[key])
        recursive = recursive_names(defs)
        # Counted before anything is built: the expansion is what could be too large to make.
        size = _expanded_size(body, defs, recursive, {})
        if size > self.max_nodes:
            logger.warning(
                "tool %r: its schema would grow to %d values written out (max_nodes=%d); "
                "shown with its references",
                tool,
                size,
                self.max_nodes,
            )
            return schema
        result = inline_defs(body, defs)
        if "$defs" in result:
            logger.warning(
                "tool %r: recursive types %s stay references (no finite expansion)",
                tool,
                ", ".join(sorted(result["$defs"])),
            )
        return result


def _retargeted(node: Any, prefix: str) -> Any:
    """`node` with references under `prefix` made `#/$defs/` ones (one place for both)."""
    if prefix == "#/$defs/":
        return node
    if isinstance(node, list):
        return [_retargeted(item, prefix) for item in cast("list[object]", node)]
    if not isinstance(node, dict):
        return node
    out = {k: _retargeted(v, prefix) for k, v in cast("dict[str, Any]", node).items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(prefix):
        out["$ref"] = "#/$defs/" + ref.removeprefix(prefix)
    return out


def _expanded_size(
    node: Any, defs: dict[str, Any], recursive: frozenset[str], sizes: dict[str, int]
) -> int:
    """How many JSON values `node` holds once its references are written out (each
    definition counted once, `sizes` remembering them: no expansion is built to count)."""
    if isinstance(node, list):
        return 1 + sum(
            _expanded_size(i, defs, recursive, sizes) for i in cast("list[object]", node)
        )
    if not isinstance(node, dict):
        return 1
    mapping = cast("dict[str, Any]", node)
    total = 1 + sum(_expanded_size(v, defs, recursive, sizes) for v in mapping.values())
    ref = mapping.get("$ref")
    name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
    if name is not None and name in defs and name not in recursive:
        if name not in sizes:
            sizes[name] = _expanded_size(defs[name], defs, recursive, sizes)
        total += sizes[name]
    return total
