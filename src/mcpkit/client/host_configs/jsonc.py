"""JSON with comments and trailing commas (JSONC), as VS Code, Cursor and Gemini CLI let users
write their settings: made plain JSON for reading only (mcpkit never writes such a file back).

Written here, not on a library, because none reads JSONC and only JSONC and is kept up:
json5 and pyjson5 read JSON5, a superset (single-quoted strings, unquoted keys, hex numbers,
a leading `+`, strings over several lines), so a file its host refuses would be read as valid here
and its servers listed as if the host ran them; jsonc-parser (last release 2021) and
commentjson (2020) are not maintained. What is left to do is small: comments and a comma
before `}` or `]` go, strings stay as they are, and the standard `json` module reads the rest.
"""

from __future__ import annotations

__all__ = ["strip_jsonc"]


def strip_jsonc(text: str) -> str:
    """`text` without `//` and `/* */` comments and with no comma before a closing `}` or `]`;
    strings are copied as they are (a `//` in a URL stays)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif ch in "}]":
            _drop_trailing_comma(out)
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """The index just past the string that opens at `start` (its escapes skipped)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)  # unterminated: the JSON parser says so


def _drop_trailing_comma(out: list[str]) -> None:
    for index in range(len(out) - 1, -1, -1):
        piece = out[index]
        if piece.isspace():
            continue
        if piece == ",":
            del out[index]
        return
