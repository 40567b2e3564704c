"""The ```python blocks of README.md and docs/*.md as the files a reader saves.

A block's first line names its file (`# weather.py`); `# weather.py, continued` adds the block
to the file of that name above it on the same page. An HTML comment on the line before the
fence says what the page does not:

- `<!-- fragment: why -->`: a piece shown inside a bigger program; it only has to compile;
- `<!-- against: FILE -->`: a client that takes a server's URL as its one argument: it runs
  against `mcpkit run FILE --transport http` (FILE a block of the page, or under examples/);
- `<!-- run by: tests/PATH.py -->`: a program whose surroundings (a browser, an identity
  provider, a real host) that test stands in for; it runs it, naming the block's file.

A script followed by "prints" and a ```text block prints exactly that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]

_BLOCK = re.compile(
    r"^(?:<!-- (?P<mark>[^\n]*?) -->\n)?```python\n(?P<body>.*?)^```\n"
    r"(?:\nprints\n\n```text\n(?P<prints>.*?)^```\n)?",
    re.M | re.S,
)
_NAME = re.compile(r"# (?P<name>[\w-]+\.py)(?P<continued>, continued)?")
MARKS = ("fragment", "against", "run by")


@dataclass(frozen=True)
class Snippet:
    """One ```python block: where it is, its text, its file name and the mark before it."""

    doc: str
    line: int
    source: str
    name: str | None
    continued: bool
    mark: str | None  # "fragment", "against" or "run by"
    mark_value: str  # what follows the mark's colon
    prints: str | None  # the output the page shows after it

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def snippets(doc: str) -> list[Snippet]:
    text = (REPO / doc).read_text()
    found: list[Snippet] = []
    for match in _BLOCK.finditer(text):
        body = match["body"]
        named = _NAME.fullmatch(body.split("\n", 1)[0])
        mark, _, value = (match["mark"] or "").partition(":")
        found.append(
            Snippet(
                doc=doc,
                line=text.count("\n", 0, match.start("body")),
                source=body,
                name=named["name"] if named else None,
                continued=bool(named and named["continued"]),
                mark=mark.strip() or None,
                mark_value=value.strip(),
                prints=match["prints"],
            )
        )
    return found


def files(doc: str) -> dict[str, list[Snippet]]:
    """The page's files by name, each the blocks that make it up, in order (fragments left
    out)."""
    made: dict[str, list[Snippet]] = {}
    for snippet in snippets(doc):
        if snippet.mark == "fragment" or snippet.name is None:
            continue
        made.setdefault(snippet.name, []).append(snippet)
    return made


def source_of(parts: list[Snippet]) -> str:
    return "\n\n".join(part.source for part in parts)
