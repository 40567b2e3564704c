"""The YAML frontmatter of a SKILL.md, read into JSON values (SEP-2640, "Frontmatter"), by a
reader of our own rather than a YAML library: none reads YAML 1.2's core schema and refuses
aliases (a few lines of which expand into billions of values) without code of ours around it,
and the core needs nothing but msgspec (the reasons, library by library, are below).

A skill's entry carries its SKILL.md's frontmatter "rendered verbatim as a JSON object", and a
client compares a fetched SKILL.md's frontmatter with the entry's field by field: both sides
read it here, with the same rules, so what a server publishes is what a client checks.

Frontmatter is a small YAML mapping (Agent Skills: `name`, `description`, `license`,
`compatibility`, `metadata`, `allowed-tools`), so this reads the part of YAML 1.2 such
mappings use: block mappings and sequences nested by indentation,
plain scalars (the core schema: null, booleans, integers, floats, else strings, folded over
continuation lines), single- and double-quoted scalars, literal (`|`) and folded (`>`) block
scalars with their chomping indicators, one-line flow sequences and mappings of scalars, and
comments. Anything else (anchors, aliases, tags, complex keys, several documents) is refused
with a `SkillError` that names the line, rather than read some other way than YAML would.

The reader (`mcpkit.protocol.frontmatter_reader`, with `frontmatter_text` for what a line
holds and how a scalar's lines become its text) was written here, not on a YAML library,
because skills are in the core (server and client), which needs nothing but msgspec, and
each candidate would still need code of ours around it:
- PyYAML (in the `cli` and `openapi` extras) is YAML 1.1 in its resolver and its safe
  constructor alike: `yes`/`on` are booleans, `017` is octal 15 and `1:20` the integer 80;
  replacing both is a scalar layer of our own again; and its safe loader accepts aliases
  (shared in memory, but a few lines of them render as a JSON object of billions of values)
  with no switch to refuse them.
- ruamel.yaml reads 1.2's core schema, but would be a new dependency of every install, and
  refuses aliases only by overriding its composer's internals.
- strictyaml (what the Agent Skills reference, skills-ref, reads with) yields every scalar
  as a string and refuses flow collections, so `true` or `[a, b]` would not render as the
  JSON the SEP's entries carry.
tests/protocol/test_frontmatter.py checks this reader against PyYAML's parser (its grammar:
quoting, folding, block scalars) wherever the two are meant to agree.
"""

from __future__ import annotations

from typing import Any, Final, cast

from mcpkit.errors import SkillError
from mcpkit.protocol.frontmatter_reader import FrontmatterReader

__all__ = ["parse_frontmatter", "same_json", "split_frontmatter"]

_FENCE: Final = "---"


def split_frontmatter(text: str) -> tuple[str, str] | None:
    """`(frontmatter, body)` of a SKILL.md: the lines between a first line `---` and the next
    `---`; None when the text does not begin with such a block (a byte-order mark is
    skipped)."""
    text = text.removeprefix("\ufeff")
    # Split on "\n" alone, then "\r" stripped: a file written on Windows reads the same.
    lines = text.split("\n")
    # A fence may carry trailing spaces or a CR, which editors leave behind.
    if lines[0].rstrip("\r").rstrip(" \t") != _FENCE:
        return None
    # The first closing fence ends it: a `---` later in the body is the body's own.
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r").rstrip(" \t") == _FENCE:
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    return None


def parse_frontmatter(text: str) -> dict[str, Any]:
    """The frontmatter of the SKILL.md `text` as a JSON object. SkillError when there is no
    frontmatter block, when it is not a mapping, or when it uses YAML this does not read."""
    split = split_frontmatter(text)
    if split is None:
        raise SkillError(
            "SKILL.md does not begin with a YAML frontmatter block between '---' lines"
        )
    reader = FrontmatterReader(split[0])
    value = reader.document()
    # An empty block is an empty mapping: the caller then says which field is missing.
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SkillError("SKILL.md frontmatter is not a YAML mapping of fields")
    return cast("dict[str, Any]", value)


def same_json(a: object, b: object) -> bool:
    """Whether two JSON values are equal as JSON sees them: numbers by value whatever their
    Python type, but a boolean never equal to a number (Python's `True == 1`)."""
    # Booleans first: `bool` is a subclass of `int`, and the number test would take it.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    # `1` and `1.0` are one JSON number: a server's YAML and a client's JSON may differ so.
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        da, db = cast("dict[str, object]", a), cast("dict[str, object]", b)
        return da.keys() == db.keys() and all(same_json(da[k], db[k]) for k in da)
    if isinstance(a, list) and isinstance(b, list):
        la, lb = cast("list[object]", a), cast("list[object]", b)
        return len(la) == len(lb) and all(same_json(x, y) for x, y in zip(la, lb, strict=True))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    # What is left: null, or two values of different JSON types, never equal.
    return a is None and b is None
