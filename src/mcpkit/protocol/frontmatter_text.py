"""What YAML reads in the text of a frontmatter line, and how it turns a scalar's lines into its
text (YAML 1.2, 6.1, 6.5, 6.6 and 8.1): indentation, comments, line folding in quoted scalars,
literal and folded block scalars, chomping, and where a quote closes. Pure functions of
strings, apart from `mcpkit.protocol.frontmatter_reader`, which follows the frontmatter's
structure and hands each scalar's lines here.
"""

from __future__ import annotations

import re

__all__ = [
    "chomped",
    "closes",
    "fold",
    "folded_block",
    "indent_of",
    "literal_block",
    "significant",
    "strip_comment",
]


def indent_of(line: str) -> int:
    """A line's indentation in spaces (tabs are refused before any line is read)."""
    return len(line) - len(line.lstrip(" "))


def significant(line: str) -> bool:
    """Whether a line holds content: neither blank nor a whole-line comment."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def strip_comment(text: str) -> str:
    """A plain value without its trailing comment (a `#` after whitespace)."""
    # Only after whitespace: `a#b` is text, as YAML reads it (6.6).
    match = re.search(r"(^|[ \t])#", text)
    return (text[: match.start()] if match else text).rstrip()


def closes(text: str, quote: str, start: int = 1) -> bool:
    """Whether the quoted scalar opening `text` closes in it (`start` 0: `text` is a later
    line of one, which opened before it)."""
    k = start
    while k < len(text):
        # An escaped character, `\"` above all, never closes the quote.
        if text[k] == "\\" and quote == '"':
            k += 2
            continue
        if text[k] == quote:
            if quote == "'" and text[k + 1 : k + 2] == "'":
                k += 2
                continue
            return True
        k += 1
    return False


def fold(parts: list[str], quote: str) -> str:
    """Lines of a flow scalar folded: one break is a space, each blank line a newline."""
    out = [parts[0]]
    # YAML line folding (6.5): a single break reads as a space, and n blank lines in a
    # row as n line breaks. In double quotes a line may end in an escaped break (7.3.1):
    # its backslash and the break are dropped, so the next line follows with no space.
    # Pieces joined once at the end, and only the last line looked at for its escape:
    # the cost stays linear in the value's length, however many lines it runs over.
    pending = 0  # blank lines since the last text line
    for part in parts[1:]:
        if part == "":
            pending += 1
            continue
        escaped = quote == '"' and _ends_in_escape(out[-1])
        if escaped:
            out[-1] = out[-1][:-1]
        out.append("\n" * pending if pending else "" if escaped else " ")
        out.append(part)
        pending = 0
    return "".join(out)


def _ends_in_escape(line: str) -> bool:
    """Whether `line` ends in a backslash that escapes its line break: an odd run of them
    (`\\\\` is one backslash, escaped)."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def literal_block(lines: list[str]) -> str:
    """A literal block scalar: every line kept, each with its break (`chomped` then trims
    the last ones as the header says)."""
    return "".join(line + "\n" for line in lines)


def folded_block(lines: list[str]) -> str:
    """A folded block scalar: lines joined by spaces, except around blank and more-indented
    lines, whose breaks are kept."""
    out: list[str] = []
    previous: str | None = None  # None at the start and after a blank line
    for line in lines:
        # A blank line is a kept break, and the line after it starts afresh (no space).
        if line == "":
            out.append("\n")
            previous = None
            continue
        if previous is not None:
            # A more-indented line keeps its breaks: it is meant as it is laid out (code).
            joins = not previous.startswith((" ", "\t")) and not line.startswith((" ", "\t"))
            out.append(" " if joins else "\n")
        out.append(line)
        previous = line
    if previous is not None:
        out.append("\n")
    return "".join(out)


def chomped(text: str, chomp: str) -> str:
    """The final line breaks as the chomping indicator says (YAML 1.2, 8.1.1.2): `+` keeps
    them all, `-` none, and the default (clip) one."""
    body = text.rstrip("\n")
    if chomp == "+":
        return text
    # An all-blank scalar clips to "", not "\n": there is no last line to end.
    if chomp == "-" or not body:
        return body
    return body + "\n"
