"""Definitions put in place: every `$ref` to a non-recursive definition is replaced by it,
and `$defs` keeps only the recursive types, which cannot be written out.

Clients handle references badly (openai-agents turns strict mode off for a nested argument,
some refuse an enum behind a `$ref`), so a schema says in place what it can; a recursive
type has no finite expansion and stays a reference to its definition.
"""

from __future__ import annotations

from typing import Any, Final, cast

__all__ = ["inline_defs", "recursive_names"]

_PREFIX: Final = "#/$defs/"
# Keywords that describe a value without constraining it: beside a `$ref` they may simply
# replace the definition's own (the property's description wins over its type's).
_ANNOTATIONS: Final = frozenset(
    "title description examples default deprecated readOnly writeOnly $comment".split()
)


def inline_defs(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """`schema` (whose `$ref`s point into `defs`) with the non-recursive definitions in
    place and the recursive ones it still uses in its `$defs`; a root that is a lone
    reference to a recursive type gets that type's definition at the root as well."""
    recursive = recursive_names(defs)
    root: dict[str, Any] = _expand(schema, defs, recursive)
    ref = root.get("$ref")
    if isinstance(ref, str) and len(root) == 1 and ref.startswith(_PREFIX):
        root = _expand(defs[ref.removeprefix(_PREFIX)], defs, recursive)
    kept: dict[str, Any] = {}
    pending = _refs_in(root)
    while pending:
        name = pending.pop()
        if name not in kept:
            kept[name] = _expand(defs[name], defs, recursive)
            pending |= _refs_in(kept[name])
    # Sorted: `pending` is a set, whose order of strings differs from one process to the
    # next, and every process must list the same schema.
    if kept:
        root["$defs"] = dict(sorted(kept.items()))
    return root


def _expand(node: Any, defs: dict[str, Any], recursive: frozenset[str]) -> Any:
    """A copy of `node` with every reference to a non-recursive definition replaced."""
    if isinstance(node, list):
        return [_expand(item, defs, recursive) for item in cast("list[object]", node)]
    if not isinstance(node, dict):
        return node
    given = cast("dict[str, Any]", node)
    out = {key: _expand(value, defs, recursive) for key, value in given.items() if key != "$ref"}
    ref = given.get("$ref")
    if ref is None:
        return out
    name = ref.removeprefix(_PREFIX) if isinstance(ref, str) else None
    # A reference outside `$defs` is not ours to resolve, and a recursive one has no finite
    # expansion: both stay references.
    if name is None or name in recursive or name not in defs:
        return {"$ref": ref, **out}
    target = cast("dict[str, Any]", _expand(defs[name], defs, recursive))
    # Merged where the keys beside the reference only describe, or are ones the definition
    # lacks; where a constraint would overwrite the definition's own, both must hold.
    if all(key in _ANNOTATIONS or key not in target for key in out):
        return {**target, **out}
    return {"allOf": [target], **out}  # constraints beside the reference apply as well


def _refs_in(node: Any) -> set[str]:
    """The `$defs` names referred to anywhere inside `node`; other references are not ours."""
    found: set[str] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            mapping = cast("dict[str, Any]", item)
            ref = mapping.get("$ref")
            if isinstance(ref, str) and ref.startswith(_PREFIX):
                found.add(ref.removeprefix(_PREFIX))
            stack.extend(mapping.values())
        elif isinstance(item, list):
            stack.extend(cast("list[object]", item))
    return found


def recursive_names(defs: dict[str, Any]) -> frozenset[str]:
    """The definitions that reach themselves through references (directly or not)."""
    # Only a name reached again from itself is recursive: a definition that merely refers
    # to a recursive one is expanded where it is referenced, keeping the reference inside it.
    edges = {name: _refs_in(body) & defs.keys() for name, body in defs.items()}
    recursive: set[str] = set()
    for start in edges:
        seen: set[str] = set()
        pending = list(edges[start])
        while pending:
            name = pending.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                pending.extend(edges[name])
    return frozenset(recursive)
