"""docs/fastmcp.md names only what exists: every mcpkit name in its tables resolves (a module
path, a method of `Server`, `Context` or `Client`, a keyword of their constructors, a command
of `mcpkit`), every row without an equivalent says what to do instead, and every link
reaches a heading of the page it names. Its example runs through test_doc_snippets.py."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import mcpkit
from mcpkit import Client, Context, Server
from mcpkit.cli.commands import VERBS

METHOD = r"(?<![\w.])(server|Server|ctx|client|Client)\.(?!py\b)(\w+)"  # not `server.py`
LINK = r"\]\(([\w.-]+\.md)(#[\w-]+)?\)"
REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "fastmcp.md"
OWNERS: dict[str, type] = {
    "server": Server,
    "Server": Server,
    "ctx": Context,
    "client": Client,
    "Client": Client,
}


def cells(line: str) -> list[str]:
    """A table row's cells, split on the `|` that are outside code spans."""
    found, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            found.append(current.strip())
            current = ""
        else:
            current += char
    return [*found, current.strip()]


def rows() -> list[list[str]]:
    table = [cells(line) for line in PAGE.read_text().splitlines() if line.startswith("| ")]
    return [row for row in table if row[:2] != ["FastMCP", "mcpkit"] and set(row[0]) != {"-"}]


def resolve(dotted: str) -> Any:
    """`mcpkit.a.b.Name.attr`: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr)
        return found
    raise ImportError(dotted)


def problems_in(span: str) -> list[str]:
    """What in one code span of the mcpkit column does not exist."""
    missing = []
    for dotted in re.findall(r"(?<![\w.])mcpkit(?:\.\w+)+", span):
        try:
            resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    for owner, attr in re.findall(METHOD, span):
        if not hasattr(OWNERS[owner], attr):
            missing.append(f"{owner}.{attr}")
    for owner, args in re.findall(r"(?<![\w.])(Server|Client)\(([^`]*)\)", span):
        accepted = inspect.signature(OWNERS[owner].__init__).parameters
        missing += [f"{owner}({kw}=)" for kw in re.findall(r"(\w+)=", args) if kw not in accepted]
    for verb in re.findall(r"^mcpkit (\w+)", span):
        if verb not in VERBS:
            missing.append(f"mcpkit {verb}")
    for name in re.findall(r"(?<![\w.])([A-Z][a-z]+[A-Z]\w*|[A-Z]\w*Server)\b", span):
        if name not in mcpkit.__all__:
            missing.append(name)
    return missing


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_mcpkit_name_in_the_tables_exists() -> None:
    missing = []
    for row in rows():
        for span in re.findall(r"`([^`]+)`", row[1]):
            missing += [f"{row[0]}: {name}" for name in problems_in(span)]
    assert missing == []


def test_a_row_without_an_equivalent_says_what_to_do_instead() -> None:
    """A reader porting a server is told what to use; never "none yet" or an issue of ours,
    which they cannot see and which went stale (six rows said "none yet" for what shipped)."""
    for row in rows():
        assert len(row) == 4, row
        fastmcp, ours, differs, _ = row
        assert not re.search(r"none yet|\bissues? \d+", " ".join(row)), fastmcp
        if ours.startswith("none"):
            assert ours.startswith("none:") or differs, f"{fastmcp}: say what to do instead"
        else:
            assert re.search(r"`[^`]+`", ours), f"{fastmcp}: name mcpkit's equivalent"


@pytest.mark.parametrize("target", sorted(set(re.findall(LINK, PAGE.read_text()))), ids="".join)
def test_every_link_reaches_a_heading(target: tuple[str, str]) -> None:
    page, anchor = target
    text = (PAGE.parent / page).read_text()
    if anchor:
        headings = {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}
        assert anchor[1:] in headings, f"{page}{anchor}"


async def test_what_the_page_says_mcpkit_refuses_or_masks() -> None:
    """The first section's claims: an unknown option and a second registration of a name are
    refused, an exception's text is masked, `"10"` is no `int`, lists are paginated."""
    server = Server("claims")

    @server.tool()
    def fail(n: int) -> int:
        raise RuntimeError(f"secret path /srv/{n}")

    @server.prompt()
    def hello() -> str:
        return "hi"

    @server.resource("notes://today")
    def today() -> str:
        return "notes"

    unknown: dict[str, Any] = {"descripton": "x"}  # a misspelt option, as the page says
    with pytest.raises(TypeError, match="descripton"):
        server.tool(**unknown)
    for again in (
        lambda: server.tool(name="fail")(lambda: 1),
        lambda: server.prompt(name="hello")(lambda: "hi"),
        lambda: server.resource("notes://today")(lambda: "again"),
    ):
        with pytest.raises(ValueError, match="already registered"):
            again()
    assert inspect.signature(Server.__init__).parameters["page_size"].default == 100
    for protocol in ("2025-11-25", "2026-07-28"):
        async with asyncio.timeout(30), Client(server, protocol=protocol) as client:
            masked = await client.call_tool("fail", {"n": 1})
            assert masked.is_error and "secret" not in str(masked.content)
            assert (await client.call_tool("fail", {"n": "10"})).is_error
