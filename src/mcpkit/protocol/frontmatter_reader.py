"""The reader of a SKILL.md's frontmatter lines (`FrontmatterReader`): the structure YAML nests
by indentation (block mappings and sequences, one-line flow collections) and the scalars in
it, each resolved by the YAML 1.2 core schema, with every error naming its line. Apart from
`mcpkit.protocol.frontmatter`, which says what is read and why no YAML library reads it, and
finds the block in the file; what a line holds and how a scalar's lines
become its text are `mcpkit.protocol.frontmatter_text`'s.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from mcpkit.errors import SkillError
from mcpkit.protocol.frontmatter_text import (
    chomped,
    closes,
    fold,
    folded_block,
    indent_of,
    literal_block,
    significant,
    strip_comment,
)

__all__ = ["FrontmatterReader"]

_FENCE: Final = "---"
# The YAML 1.2 core schema's tag resolution (section 10.3.2): exactly these spellings are
# null, booleans and numbers; anything else plain is a string. So `yes`, `on` and `017`
# stay text, unlike YAML 1.1.
_INT: Final = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_NULLS: Final = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE: Final = frozenset({"true", "True", "TRUE"})
_FALSE: Final = frozenset({"false", "False", "FALSE"})
# Indicators a plain scalar may not start with (YAML 1.2, 7.3.3); those we do not read at all.
_UNSUPPORTED: Final = {"&": "anchors", "*": "aliases", "!": "tags", "?": "complex keys"}
_RESERVED: Final = frozenset("@`%")
# Double-quoted escapes (YAML 1.2, 5.7), each to the character it stands for.
_ESCAPES: Final = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}  # escape letter -> its number of hex digits
#: Block collections nested deeper than this are refused: a skill's fields nest a few levels,
#: and each level costs the reader three Python frames, so a hostile file nesting thousands
#: would otherwise end in RecursionError rather than a SkillError naming its line.
MAX_DEPTH: Final = 64


class FrontmatterReader:
    """Reads the frontmatter's lines top-down; `i` is the next line to read."""

    def __init__(self, text: str) -> None:
        # YAML forbids tabs in indentation (6.1); refused at once, since every later
        # decision reads indentation.
        if "\t" in "".join(line[: indent_of(line) + 1] for line in text.split("\n")):
            raise SkillError("SKILL.md frontmatter indents with a tab, which YAML forbids")
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        # The next line to read: the reader only moves forward, never back.
        self.i = 0
        self.at = 0  # the line whose entry is being read, for errors
        self.depth = 0  # block collections open around the line being read (MAX_DEPTH)

    def fail(self, why: str, line: int | None = None) -> SkillError:
        """The error for what is wrong, naming the SKILL.md line a user can find."""
        n = (self.at if line is None else line) + 2  # 1-based, after the opening '---'
        return SkillError(f"SKILL.md frontmatter, line {n}: {why}")

    def next_significant(self) -> int | None:
        """The index of the next line with content, skipping blank and comment lines.
        It only looks: `i` moves when a reader takes the line."""
        j = self.i
        while j < len(self.lines) and not significant(self.lines[j]):
            j += 1
        return j if j < len(self.lines) else None

    def document(self) -> Any:
        """The whole frontmatter's value (None when empty); text left after it is refused."""
        j = self.next_significant()
        if j is None:
            return None
        # The top level may be indented; whatever its indent, all of it must share it.
        value = self.block(indent_of(self.lines[j]))
        j = self.next_significant()
        if j is not None:
            raise self.fail("unexpected text after the mapping (check its indentation)", j)
        return value

    def block(self, indent: int) -> Any:
        """A block collection at `indent`: a sequence if it starts with `- `, else a mapping."""
        j = self.next_significant()
        assert j is not None  # (called only where a line with content follows)
        content = self.lines[j][indent:]
        # `-` must be followed by a space or the line's end: `-x: 1` is a key like any.
        if content == "-" or content.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def deeper(self, j: int) -> None:
        """One more block collection opens at line `j`: refused past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"fields nest deeper than {MAX_DEPTH} levels", j)

    def mapping(self, indent: int) -> dict[str, Any]:
        """A block mapping whose keys sit at `indent`; it ends at a line indented less."""
        self.deeper(self.i)
        result: dict[str, Any] = {}
        while (j := self.next_significant()) is not None:
            line = self.lines[j]
            # Less indented: the mapping is over, and the line is its parent's.
            if indent_of(line) < indent:
                break
            self.i = self.at = j
            # More indented with no key above to own it: YAML would refuse it too.
            if indent_of(line) > indent:
                raise self.fail("unexpected indentation")
            key, rest = self.key(line[indent:])
            # YAML 1.2 requires unique keys; which of two a reader keeps differs between
            # libraries, so a server and a client could disagree. Refused.
            if key in result:
                raise self.fail(f"the field {key!r} appears twice")
            self.i += 1  # past the key's line: a value on the lines below reads from here
            result[key] = self.value(rest, indent, in_mapping=True)
        self.depth -= 1
        return result

    def sequence(self, indent: int) -> list[Any]:
        """A block sequence whose `- ` sit at `indent`."""
        self.deeper(self.i)
        items: list[Any] = []
        while (j := self.next_significant()) is not None:
            line = self.lines[j]
            # A line that is no `- ` item at this indent ends the sequence (it is the next
            # key of the mapping around it), unless it is indented more, which is an error.
            if indent_of(line) != indent or not (line[indent:] == "-" or line[indent:][:2] == "- "):
                if indent_of(line) > indent:
                    self.i = self.at = j
                    raise self.fail("unexpected indentation")
                break
            self.i = self.at = j
            rest = line[indent + 1 :].lstrip(" ")
            # A quoted or flow item may hold `: ` without being a mapping.
            if rest and not rest.startswith(("'", '"', "[", "{")) and self.key_split(rest):
                # `- key: value`: a mapping whose keys line up with this first one.
                offset = len(line) - len(rest)
                # The `- ` is blanked out, so the mapping reads its first line as any other.
                self.lines[j] = " " * offset + rest
                items.append(self.mapping(offset))
                continue
            self.i += 1
            items.append(self.value(rest, indent, in_mapping=False))
        self.depth -= 1
        return items

    @staticmethod
    def key_split(content: str) -> int | None:
        """Where the `:` ending a plain key is (followed by a space or the line's end)."""
        # YAML: a `:` ends a plain key only before whitespace, so `http://x` is no key.
        match = re.search(r":( |$)", content)
        if match is None or content.startswith("#"):  # a comment holds no key
            return None
        return match.start()

    def key(self, content: str) -> tuple[str, str]:
        """A mapping entry's key and the text after its `:` (a quoted key may hold `: `)."""
        if content[0] in "\"'":
            key, rest = self.quoted(content)
            rest = rest.lstrip(" ")
            if not rest.startswith(":"):
                raise self.fail("a quoted key is not followed by ':'")
            return key, rest[1:].strip()
        # An alias could make one small entry expand into billions of values (the module
        # docstring): refused here, as in every value.
        if content[0] in _UNSUPPORTED:
            raise self.fail(f"YAML {_UNSUPPORTED[content[0]]} are not supported in frontmatter")
        at = self.key_split(content)
        if at is None:
            raise self.fail(f"expected 'field: value', found {content.strip()!r}")
        return content[:at].rstrip(), content[at + 1 :].strip()

    def value(self, rest: str, indent: int, *, in_mapping: bool) -> Any:
        """The value after a key (or a `- `) at `indent`, its first line's text being `rest`."""
        # Nothing after the key: the value is the block on the lines below, or null.
        if not rest or rest.startswith("#"):
            j = self.next_significant()
            if j is None:
                return None
            child = indent_of(self.lines[j])
            if child > indent:
                return self.block(child)
            content = self.lines[j][indent:]
            if in_mapping and child == indent and (content == "-" or content.startswith("- ")):
                return self.sequence(indent)  # YAML lets a mapping's list sit at its indent
            # Anything else on the lines below belongs to the parent: the value is null.
            return None
        # The first character says which kind of scalar or collection follows.
        if rest[0] in "|>":
            return self.block_scalar(rest, indent)
        if rest[0] in "\"'":
            return self.quoted_value(rest, indent)
        if rest[0] in "[{":
            return self.flow(strip_comment(rest))
        return self.plain(rest, indent)

    def plain(self, rest: str, indent: int) -> Any:
        """A plain scalar, folded over its continuation lines (those indented more)."""
        if rest[0] in _UNSUPPORTED:
            raise self.fail(f"YAML {_UNSUPPORTED[rest[0]]} are not supported in frontmatter")
        # YAML indicators (`@` and a backtick reserved, `%` a directive): quoted only.
        if rest[0] in _RESERVED:
            raise self.fail(f"a plain value cannot begin with {rest[0]!r}; quote it")
        parts = [strip_comment(rest)]
        folded = parts[0] != rest.rstrip()  # a comment ends the scalar
        # Continuation lines are those indented more than the key; blank ones are kept
        # (as "") since each folds into a line break.
        while not folded and self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and indent_of(line) <= indent:
                break
            if line.strip().startswith("#"):
                break
            parts.append(strip_comment(line.strip()) if line.strip() else "")
            self.i += 1
        # Trailing blank lines separate this value from the next key; they are not its.
        while parts and parts[-1] == "":
            parts.pop()
        text = fold(parts, "")
        # A `: ` inside a plain value is where YAML parsers disagree most (a mapping, or
        # text?): refused with a hint to quote it, so both sides read the same.
        if re.search(r": |:$", text) and len(parts) > 1:
            raise self.fail("a value spread over lines contains ': '; quote it")
        if ": " in text:
            raise self.fail("a plain value contains ': '; quote it")
        # A scalar over several lines is always a string (no number spans lines).
        return self.resolve(text) if len(parts) == 1 else text

    def resolve(self, text: str) -> Any:
        """A one-line plain scalar under the YAML 1.2 core schema."""
        if text in _NULLS:  # `key:` alone is null too
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if _INT.match(text):
            return int(text)
        # The core schema's only other integer forms: hex `0x` and octal `0o` (never `017`).
        if re.fullmatch(r"0x[0-9a-fA-F]+", text):
            return int(text, 16)
        if re.fullmatch(r"0o[0-7]+", text):
            return int(text[2:], 8)
        if _FLOAT.match(text):
            value = float(text)
            # `1e999` overflows to infinity, which JSON cannot carry: kept as text.
            if math.isfinite(value):
                return value
        # YAML's infinities and NaN are numbers there, but JSON has none: refused, since
        # keeping them as text would read differently from a YAML library.
        if text.lower() in (".inf", "+.inf", "-.inf", ".nan"):
            raise self.fail(f"{text} has no JSON form; quote it to keep it as text")
        return text

    def quoted(self, text: str) -> tuple[str, str]:
        """A quoted scalar at the start of `text` (one line): its value and what follows.
        SkillError when the quote never closes, or for an unknown escape."""
        quote, k = text[0], 1
        out: list[str] = []
        while k < len(text):
            c = text[k]
            if c == quote:
                # In single quotes a quote is written twice; there is no other escape.
                if quote == "'" and text[k + 1 : k + 2] == "'":
                    out.append("'")
                    k += 2
                    continue
                return "".join(out), text[k + 1 :]
            # Backslash escapes exist only in double quotes.
            if c == "\\" and quote == '"':
                k = self.escape(text, k, out)
                continue
            out.append(c)
            k += 1
        raise self.fail("a quoted value has no closing quote")

    def escape(self, text: str, k: int, out: list[str]) -> int:
        """Read the escape at `text[k]` (a backslash) into `out`; the index after it.
        An unknown escape is refused, as YAML requires, rather than kept as two characters."""
        code = text[k + 1 : k + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            return k + 2
        # `\x41`, `\u00e9`, `\U0001F600`: exactly that many hex digits, no fewer.
        width = _HEX_ESCAPES.get(code)
        digits = text[k + 2 : k + 2 + width] if width else ""
        if not width or not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) != width:
            raise self.fail(f"unknown escape \\{code} in a double-quoted value")
        out.append(chr(int(digits, 16)))
        return k + 2 + width

    def quoted_value(self, rest: str, indent: int) -> str:
        """A quoted scalar, which may run over several lines (each line break folded)."""
        quote = rest[0]
        pieces = [rest]
        # Lines are gathered until the quote closes; a line back at the key's indent
        # first means the quote was never closed, caught here rather than at the end.
        # Each line is looked at alone, once (`closes`): an escape at a line's end escapes
        # only the break joining it to the next, which never closes a quote.
        closed = closes(rest, quote)
        while not closed:
            if self.i >= len(self.lines) or (
                self.lines[self.i].strip() and indent_of(self.lines[self.i]) <= indent
            ):
                raise self.fail("a quoted value has no closing quote")
            piece = self.lines[self.i].strip()
            pieces.append(piece)
            self.i += 1
            closed = closes(piece, quote, 0)
        joined = fold(pieces, quote) if len(pieces) > 1 else rest
        value, after = self.quoted(joined)
        # Only a comment may follow the closing quote on its line.
        if strip_comment(after).strip():
            raise self.fail(f"unexpected text after a quoted value: {after.strip()!r}")
        return value

    def block_scalar(self, header: str, indent: int) -> str:
        """A literal (`|`) or folded (`>`) block scalar (YAML 1.2, 8.1): its header's
        chomping and indentation indicators, in either order, then the lines indented
        more than its key."""
        spec = strip_comment(header)
        match = re.fullmatch(r"([|>])([-+]?)([1-9]?)|([|>])([1-9])([-+])", spec)
        if match is None:
            raise self.fail(f"bad block scalar header {spec!r}")
        style = match.group(1) or match.group(4)
        chomp = match.group(2) or match.group(6) or ""
        explicit = match.group(3) or match.group(5)
        lines: list[str] = []
        # An explicit indentation indicator counts from the key's own indent (8.1.1.1).
        width = indent + int(explicit) if explicit else None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip():
                # Without an explicit indicator, the first non-blank line sets the width.
                if width is None:
                    width = indent_of(line)
                    # Content not indented past the key: the block scalar is empty.
                    if width <= indent:
                        break
                if indent_of(line) < width:
                    break
            # Blank lines inside are kept: they are part of the text (as line breaks).
            lines.append(line[width:] if width is not None else "")
            self.i += 1
        return chomped(literal_block(lines) if style == "|" else folded_block(lines), chomp)

    def flow(self, text: str) -> Any:
        """A one-line flow sequence or mapping of scalars (`[a, b]`, `{k: v}`); one that
        spans lines or nests is refused, as this reader does not follow it."""
        opener, closer = text[0], {"[": "]", "{": "}"}[text[0]]
        if not text.endswith(closer):
            raise self.fail("a flow collection must open and close on one line")
        items = [part.strip() for part in _split_flow(text[1:-1], self)]
        if items and items[-1] == "":
            items.pop()  # a trailing comma
        if opener == "[":
            return [self.flow_scalar(item) for item in items]
        mapping: dict[str, Any] = {}
        for item in items:
            # `{a, b: 1}`: an entry with no `:` is a key whose value is null, as in YAML.
            at = self.key_split(item)
            key, value = (item, "") if at is None else (item[:at].strip(), item[at + 1 :].strip())
            mapping[str(self.flow_scalar(key))] = self.flow_scalar(value)
        return mapping

    def flow_scalar(self, item: str) -> Any:
        """One item of a flow collection: quoted, or plain and resolved as any plain one."""
        if not item:
            return None
        # A nested collection would need a real flow parser: refused, never misread.
        if item[0] in "[{":
            raise self.fail("nested flow collections are not supported in frontmatter")
        if item[0] in "\"'":
            value, after = self.quoted(item)
            if after.strip():
                raise self.fail(f"unexpected text after a quoted value: {after.strip()!r}")
            return value
        if item[0] in _UNSUPPORTED:
            raise self.fail(f"YAML {_UNSUPPORTED[item[0]]} are not supported in frontmatter")
        return self.resolve(item)


def _split_flow(text: str, reader: FrontmatterReader) -> list[str]:
    """The comma-separated items of a flow collection's inside, quotes respected."""
    items: list[str] = []
    current: list[str] = []
    quote = ""
    # Commas inside quotes belong to the value. A doubled `''` closes and reopens the
    # quote here, which splits nowhere, so it needs no case of its own.
    for c in text:
        if quote:
            current.append(c)
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
            current.append(c)
        elif c == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(c)
    if quote:
        raise reader.fail("a quoted value has no closing quote")
    items.append("".join(current))
    return items
