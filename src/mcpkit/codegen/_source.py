"""Text from a server made safe to place in Python source: string literals, docstrings and
comments that no name, description or enum value can break out of."""

from __future__ import annotations

import json

__all__ = ["ascii_literal", "comment_line", "comment_text", "docstring", "string_literal"]


def string_literal(text: str) -> str:
    """`text` as a Python string literal, in double quotes where it has none (`repr` escapes
    quotes, backslashes, line breaks and every character that is not printable, lone
    surrogates included)."""
    shown = repr(text)
    if shown.startswith("'") and '"' not in text:  # so repr escaped no quote in it
        return f'"{shown[1:-1]}"'
    return shown


def ascii_literal(text: str) -> str:
    """`text` as a Python string literal of ASCII characters only (`ascii`: `repr` with every
    other character escaped), in double quotes where it has none: for paths, which the
    generated file holds as data, whatever the user's or the server's alphabet."""
    shown = ascii(text)
    if shown.startswith("'") and '"' not in text:
        return f'"{shown[1:-1]}"'
    return shown


def comment_text(text: str) -> str:
    """`text` quoted for a `#` comment: JSON escapes line breaks (and every non-ASCII
    character), so the comment stays one line whatever the server named things."""
    return json.dumps(text)


def docstring(text: str, indent: str) -> str:
    """A triple-quoted docstring of `text` at `indent`: the body's backslashes and quotes are
    escaped (it cannot close early), characters that are not printable are escaped, and
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
        elif not ch.isprintable():
            out.append(repr(ch)[1:-1])  # \x00, \u2028, \ud800: escapes, never raw
        else:
            out.append(ch)
    return "".join(out)


def comment_line(text: str) -> str:
    """`text` as the rest of one `#` comment line: its lines joined, nothing unprintable."""
    return " ".join(_escaped(line).strip() for line in text.splitlines()).strip()
