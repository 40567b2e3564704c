"""Tool search's index (docs/compose.md, "Large catalogs: tool search"), through `Client` in
both eras: built as serving starts, not by a client's first search, and ranking each caller's
answer by the tools that caller may see alone, so that the others leave no trace in it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server.catalog.search import bm25
from mcpkit.server.catalog.search import finder as search
from mcpkit.server.catalog.search.bm25 import Document
from mcpkit.server.catalog.search.finder import SearchMode
from mcpkit.server.catalog.tools import ToolSpec

ERAS = ["2025-11-25", "2026-07-28"]


def names(result: Any) -> list[str]:
    return [tool["name"] for tool in result.structured_content["tools"]]


def reports(server: Server, *, audits: int) -> Server:
    """Two reports anyone may see, and `audits` tools whose every word is "alpha"."""
    server.add_tool(lambda: "a", name="alpha_report", description="A report.")
    server.add_tool(lambda: "b", name="beta_report", description="A report.")
    for i in range(audits):
        server.add_tool(lambda: "x", name=f"alpha_audit_{i}", description="Alpha, alpha.")
    server.add_tool_search()
    return server


def auditors_only(ctx: Context, component: Any) -> bool:
    client = ctx.client_info
    return not component.key.startswith("alpha_audit") or (
        client is not None and client.name == "auditor"
    )


@pytest.mark.parametrize("era", ERAS)
async def test_tools_a_caller_cannot_see_leave_no_trace_in_its_ranking(era: str) -> None:
    # Before: the index ranked every tool by the statistics of the whole catalog, then left
    # out what the caller may not see; words the hidden tools hold weighed less, so the order
    # of the tools it sees told a caller what the others are about ("alpha" is common).
    server = reports(Server("reports"), audits=6)
    server.add_visibility_rule(auditors_only)
    alone = reports(Server("two reports"), audits=0)
    query = {"query": "alpha beta"}
    async with (
        asyncio.timeout(10),
        Client(server, protocol=era) as guest,
        Client(server, protocol=era, name="auditor") as auditor,
        Client(alone, protocol=era) as reference,
    ):
        seen = names(await guest.call_tool("search_tools", query))
        assert seen == names(await reference.call_tool("search_tools", query))
        assert seen == ["alpha_report", "beta_report"]  # alike but for the word: by position
        # The auditor's catalog holds the audits: "alpha" is common there, "beta" rare.
        assert names(await auditor.call_tool("search_tools", query))[0] == "beta_report"


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tools read for the index from now on (BM25 and regex alike)."""
    read: list[str] = []
    document, texts = search.document, search._texts  # pyright: ignore[reportPrivateUsage]

    def counted_document(spec: ToolSpec) -> Document:
        read.append(spec.name)
        return document(spec)

    def counted_texts(spec: ToolSpec) -> tuple[str, ...]:
        read.append(spec.name)
        return texts(spec)

    monkeypatch.setattr(search, "document", counted_document)
    monkeypatch.setattr(search, "_texts", counted_texts)
    return read


@pytest.mark.parametrize("mode", ["bm25", "regex"])
@pytest.mark.parametrize("era", ERAS)
async def test_the_index_is_built_as_serving_starts(
    era: str, mode: SearchMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: nothing was read until a client's first search, which read every tool and
    # built the index while the client waited (11 ms for 1,000 tools, docs/performance.md).
    read = _counting_reads(monkeypatch)

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[None]:
        server.add_tool(lambda: "ok", name="late_tool", description="Registered at start.")
        yield

    server = Server("catalog", lifespan=lifespan)
    for i in range(20):
        server.add_tool(lambda: "ok", name=f"tool_{i}", description=f"Tool number {i}.")
    server.add_tool_search(mode)
    assert read == []
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        assert sorted(read) == sorted([*(f"tool_{i}" for i in range(20)), "late_tool"])
        query = "late" if mode == "regex" else "registered at start"
        found = await client.call_tool("search_tools", {"query": query})
        assert names(found) == ["late_tool"]
        assert len(read) == 21  # the search read nothing
        # A change is read by the next search (or session), only the tool that changed.
        server.add_tool(lambda: "ok", name="later_tool", description="Registered later.")
        found = await client.call_tool("search_tools", {"query": "later"})
        assert names(found) == ["later_tool"]
        assert read[21:] == ["later_tool"]


def test_reading_a_text_runs_the_word_regex_only_on_pieces_never_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: one piece never seen sent every piece of its text through the regex again, so
    # a catalog read for the first time (a server starting) split most of its words anew.
    monkeypatch.setattr(bm25, "_TOKENS_OF", {})
    split: list[str] = []
    remember = bm25._remember  # pyright: ignore[reportPrivateUsage]

    def counted(piece: str) -> tuple[str, ...]:
        split.append(piece)
        return remember(piece)

    monkeypatch.setattr(bm25, "_remember", counted)
    assert bm25.tokens("getHTTPResponse entries") == ["get", "http", "response", "entry"]
    assert bm25.tokens("the entries, getHTTPResponse") == ["entry", "get", "http", "response"]
    assert split == ["getHTTPResponse", "entries", "the", "entries,"]


def test_a_clients_query_is_read_but_its_words_are_not_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The memo of words is the catalog's: queries, which clients write as they like, must
    not fill it (nor push the catalog's words out of it), and read the same either way."""
    monkeypatch.setattr(bm25, "_TOKENS_OF", {})
    assert bm25.tokens("getHTTPResponse entries") == ["get", "http", "response", "entry"]
    before = dict(bm25._TOKENS_OF)  # pyright: ignore[reportPrivateUsage]
    query = "entries zqxNeverSeen getHTTPResponse"
    read = bm25.query_tokens(query)
    assert bm25._TOKENS_OF == before  # pyright: ignore[reportPrivateUsage]
    assert read == bm25.tokens(query)  # as a catalog's text with those words reads
    assert read[:1] == ["entry"] and read[-3:] == ["get", "http", "response"]


@pytest.mark.parametrize("era", ERAS)
async def test_searching_remembers_none_of_the_querys_words(
    monkeypatch: pytest.MonkeyPatch, era: str
) -> None:
    monkeypatch.setattr(bm25, "_TOKENS_OF", {})
    server = reports(Server("words"), audits=0)
    server.add_tool_search()
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        found = await client.call_tool("search_tools", {"query": "report zqxFirst zqxSecond"})
        assert names(found) == ["alpha_report", "beta_report"]
    remembered = bm25._TOKENS_OF  # pyright: ignore[reportPrivateUsage]
    assert "report" in remembered and not any("zqx" in chunk for chunk in remembered)
