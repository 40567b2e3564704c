"""What a function's docstring says: its summary, and its parameters' descriptions (Google,
NumPy and Sphinx styles)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, Final

__all__ = ["parameter_docs", "summary_doc"]

_GOOGLE_HEADER: Final = re.compile(
    r"(?P<indent>\s*)(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments"
    r"|Other Parameters):\s*"
)
# `\*{0,2}`: `*args` and `**kwargs` are documented with their stars, and named without.
_GOOGLE_ITEM: Final = re.compile(r"\*{0,2}(?P<name>\w+)\s*(?:\([^)]*\))?\s*:(?P<text>.*)")
_NUMPY_HEADER: Final = re.compile(r"\s*(?:Parameters|Other Parameters|Keyword Arguments)\s*")
_NUMPY_RULE: Final = re.compile(r"\s*-{3,}\s*")
_NUMPY_ITEM: Final = re.compile(r"(?P<names>\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?")
_SPHINX_ITEM: Final = re.compile(r"\s*:param\s+(?:[^:]*\s)?\*{0,2}(?P<name>\w+)\s*:(?P<text>.*)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(parts: list[str]) -> str:
    """The lines as one, each run of whitespace one space: a schema's description is one
    line, however the docstring wrapped it."""
    return " ".join(" ".join(parts).split())


def _google(lines: list[str], docs: dict[str, str]) -> None:
    """Read each Google-style section (`Args:`...) into `docs`: an item per line at the first
    item's indent, and deeper lines continuing the item above, so a wrapped description
    stays whole. The section ends at a line no deeper than its header."""
    for i, line in enumerate(lines):
        header = _GOOGLE_HEADER.fullmatch(line)
        if header is None:
            continue
        base = len(header["indent"])
        item_indent: int | None = None
        name = ""
        text: list[str] = []
        for body in lines[i + 1 :]:
            if not body.strip():
                continue
            indent = _indent(body)
            if indent <= base:
                break
            item = _GOOGLE_ITEM.fullmatch(body.strip())
            # A deeper line that looks like `name: text` (an example in a description)
            # continues the item above rather than starting one.
            if item is not None and (item_indent is None or indent <= item_indent):
                if name:
                    docs.setdefault(name, _join(text))
                item_indent, name, text = indent, item["name"], [item["text"]]
            elif name:
                text.append(body)
        if name:
            docs.setdefault(name, _join(text))


def _numpy(lines: list[str], docs: dict[str, str]) -> None:
    """Read each NumPy-style section (a header over a dashed rule) into `docs`: an item line
    at the header's indent may name several parameters (`x, y : int`), all given the
    indented text below it."""
    for i in range(len(lines) - 1):
        if not (_NUMPY_HEADER.fullmatch(lines[i]) and _NUMPY_RULE.fullmatch(lines[i + 1])):
            continue
        base = _indent(lines[i])
        names: list[str] = []
        text: list[str] = []
        body = lines[i + 2 :]
        for j, line in enumerate(body):
            if j + 1 < len(body) and _NUMPY_RULE.fullmatch(body[j + 1]):
                break  # the next section's title
            if not line.strip():
                continue
            indent = _indent(line)
            item = _NUMPY_ITEM.fullmatch(line.strip())
            if indent <= base and item is not None:
                for n in names:
                    docs.setdefault(n, _join(text))
                names = [n.strip().lstrip("*") for n in item["names"].split(",")]
                text = []
            elif indent <= base:
                break
            else:
                text.append(line)
        for n in names:
            docs.setdefault(n, _join(text))


def _sphinx(lines: list[str], docs: dict[str, str]) -> None:
    """Read `:param [type] name: text` fields into `docs`; a description goes on over deeper
    lines, up to a blank line or the next field (`:returns:`...)."""
    for i, line in enumerate(lines):
        item = _SPHINX_ITEM.match(line)
        if item is None:
            continue
        text = [item["text"]]
        for more in lines[i + 1 :]:
            if not more.strip() or more.lstrip().startswith(":") or _indent(more) <= _indent(line):
                break
            text.append(more)
        docs.setdefault(item["name"], _join(text))


def summary_doc(fn: Callable[..., Any]) -> str | None:
    """The description of a tool, prompt or resource from its function's docstring, else None.

    The summary paragraph(s) before an Args:/Parameters/Returns/Raises section describe it.
    """
    doc = inspect.getdoc(fn)
    if not doc:
        return None
    # Split only at a blank line before a section's header: a summary that says "Returns"
    # in mid-sentence stays whole.
    parts = re.split(r"\n\s*\n(?=\s*(?:Args|Arguments|Parameters|Returns|Raises)\b)", doc)
    return parts[0].strip()


def parameter_docs(doc: str) -> dict[str, str]:
    """Each documented parameter's description, from a cleaned docstring (`inspect.getdoc`).

    Google (`Args:` with `name (type): text`), NumPy (`Parameters` over a dashed rule, then
    `name : type` and indented text) and Sphinx (`:param name: text`) sections are read; the
    first description found for a name wins; descriptions are joined into one line.
    """
    docs: dict[str, str] = {}
    if not doc:
        return docs
    lines = doc.expandtabs().splitlines()
    _google(lines, docs)
    _numpy(lines, docs)
    _sphinx(lines, docs)
    # A bare `name:` item gives no description, rather than an empty one in the schema.
    return {name: text for name, text in docs.items() if text}
