"""Text from a server made safe to place in Python source: string literals, docstrings and
comments that no name, description or enum value can break out of, and the check every
generated file passes before it is given out.

Generated files are ASCII, and their first two lines are fixed: Python reads a source file's
encoding from a `coding:` comment on line 1 or 2 (PEP 263), so server text there (a server
named `coding:utf-7`) would have the whole file decoded as UTF-7, where printable ASCII such
as `+ACI-` reads as a quote. Outside those lines a character that is not printable ASCII is
an escape, never itself: no line end Python's tokenizer sees (`\\r`, `\\x0c`, U+2028...), no
byte a declared or guessed encoding could read otherwise, no bidi override."""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = [
    "comment_line",
    "comment_text",
    "docstring",
    "finished",
    "string_literal",
]


def string_literal(text: str) -> str:
    """`text` as a Python string literal of ASCII characters only (`ascii` escapes quotes,
    backslashes, line breaks, every character that is not printable ASCII, lone surrogates
    included), in double quotes where it has none."""
    shown = ascii(text)
    if shown.startswith("'") and '"' not in text:  # so ascii escaped no quote in it
        return f'"{shown[1:-1]}"'
    return shown


def comment_text(text: str) -> str:
    """`text` quoted for a `#` comment: JSON escapes line breaks and every non-ASCII
    character, so the comment stays one line whatever the server named things; `#` is an
    escape too, so no tool reads a directive (`# type: ignore`, `# noqa`) in it."""
    return json.dumps(text, ensure_ascii=True).replace("#", "\\u0023")


def docstring(text: str, indent: str) -> str:
    """A triple-quoted docstring of `text` at `indent`: the body's backslashes and quotes are
    escaped (it cannot close early), characters that are not printable ASCII are escaped, and
    trailing spaces go (they would end lines of the file)."""
    lines = [_escaped(line).rstrip() for line in text.strip().splitlines()] or [""]
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""'
    rest = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{rest}\n{indent}"""'


def _escaped(line: str) -> str:
    out: list[str] = []
    for ch in line:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\t":
            out.append("    ")
        elif not (ch.isascii() and ch.isprintable()):
            out.append(ascii(ch)[1:-1])  # \x00, \xe9, \u2028, \ud800: escapes, never raw
        else:
            out.append(ch)
    return "".join(out)


def comment_line(text: str) -> str:
    """`text` as the rest of one `#` comment line: its lines joined, nothing but printable
    ASCII, and `#` escaped (no directive such as `# type: ignore` starts in it)."""
    joined = " ".join(_escaped(line).strip() for line in text.splitlines()).strip()
    return joined.replace("#", "\\x23")


def finished(source: str, opening: Sequence[str]) -> str:
    """`source` as given out, once checked: it starts with the fixed `opening` lines (two at
    least: PEP 263 reads lines 1 and 2), and holds no character but printable ASCII and line
    feeds. A ValueError otherwise: a generator that would write anything else is a bug,
    refused rather than written."""
    lines = source.split("\n", len(opening))
    if len(opening) < 2 or lines[: len(opening)] != list(opening):
        raise ValueError(f"generated source must start with {opening!r}, not {lines[:2]!r}")
    where = next((i for i, ch in enumerate(source) if not _plain(ch)), None)
    if where is not None:
        line = source.count("\n", 0, where) + 1
        raise ValueError(
            "generated source must be printable ASCII and line feeds: "
            f"{source[where]!a} on line {line} was not escaped"
        )
    return source


def _plain(ch: str) -> bool:
    # (a carriage return, form feed or NUL ends or cuts a line for some tools, not others)
    return " " <= ch <= "~" or ch == "\n"
