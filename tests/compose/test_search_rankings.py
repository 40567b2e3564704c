"""Tool search answers the same whatever makes it faster: the complete rankings (BM25) and
matches (regex) of a fixed catalog for a caller seeing every tool, as they were before the
index and the regex engine were sped up (bench/search_catalog.py); for a caller seeing half
of them, what a catalog of only that half answers."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mcpkit import Client, Server
from mcpkit.server.catalog.search import finder as search
from mcpkit.server.catalog.search.bm25 import Bm25Index, Document, Postings
from mcpkit.server.catalog.search.finder import SearchMode, ToolSearch
from mcpkit.server.catalog.tools import ToolSpec

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search_catalog.py"

# query -> how many tools it finds, and the first three (the whole answer is in DIGESTS).
BM25: list[tuple[str, int, list[str]]] = [
    (
        "open a new jira ticket",
        234,
        ["jira_create_ticket", "jira_create_ticket_europe", "jira_update_ticket"],
    ),
    (
        "remove a slack message permanently",
        192,
        ["slack_delete_message", "slack_delete_message_europe", "slack_update_message"],
    ),
    (
        "download github pull requests as csv",
        199,
        ["github_export_pull_request", "github_update_pull_request", "github_delete_pull_request"],
    ),
    (
        "find calendar events matching some text",
        192,
        ["calendar_search_event", "calendar_search_event_europe", "calendar_update_event"],
    ),
    (
        "get the weather forecast",
        192,
        ["weather_get_forecast", "weather_get_forecast_europe", "weather_update_forecast"],
    ),
    (
        "change an existing crm deal",
        192,
        ["crm_update_deal", "crm_delete_deal", "crm_archive_deal"],
    ),
    (
        "show every invoice in billing",
        192,
        ["billing_list_invoice", "billing_list_invoice_europe", "billing_update_invoice"],
    ),
    (
        "make a new playlist",
        206,
        ["music_create_playlist", "music_create_playlist_europe", "music_update_playlist"],
    ),
    (
        "hide a drive folder without destroying it",
        192,
        ["drive_archive_folder", "drive_update_folder", "drive_delete_folder"],
    ),
    (
        "fetch an employee by id",
        608,
        ["hr_get_employee", "hr_get_employee_europe", "hr_update_employee"],
    ),
    (
        "cancel a hotel booking for good",
        8,
        [
            "travel_update_hotel_booking",
            "travel_delete_hotel_booking",
            "travel_archive_hotel_booking",
        ],
    ),
    (
        "new cloud storage bucket",
        234,
        ["cloud_create_bucket", "cloud_update_bucket", "cloud_delete_bucket"],
    ),
    (
        "export bank transactions to a spreadsheet",
        178,
        [
            "finance_export_transaction",
            "finance_export_transaction_europe",
            "finance_update_transaction",
        ],
    ),
    (
        "update iot device settings",
        192,
        ["iot_update_device", "iot_update_device_europe", "iot_delete_device"],
    ),
    ("search news feeds", 336, ["news_search_feed", "news_update_feed", "news_delete_feed"]),
    (
        "list the lessons",
        157,
        ["learning_list_lesson", "learning_update_lesson", "learning_delete_lesson"],
    ),
    (
        "export db tables as csv",
        199,
        ["db_export_table", "db_export_table_europe", "db_update_table"],
    ),
    (
        "delete a ci build artifact",
        192,
        ["ci_delete_artifact", "ci_update_artifact", "ci_archive_artifact"],
    ),
    ("get a driving route", 164, ["maps_get_route", "maps_get_route_europe", "maps_update_route"]),
    (
        "archive an email thread",
        192,
        ["email_archive_thread", "email_update_thread", "email_delete_thread"],
    ),
    ("getHTTPResponse entries", 300, ["github_get_issue", "jira_get_ticket", "slack_get_message"]),
    (
        "forecasts radar images",
        24,
        ["weather_update_radar_image", "weather_delete_radar_image", "weather_archive_radar_image"],
    ),
    ("the of a", 0, []),
    ("", 0, []),
    (
        "ticket ticket TICKET",
        16,
        ["jira_update_ticket", "jira_delete_ticket", "jira_archive_ticket"],
    ),
    ("id", 600, ["github_get_issue", "jira_get_ticket", "slack_get_message"]),
    ("Région naïve 42", 0, []),
]
REGEX: list[tuple[str, int, list[str]]] = [
    ("^jira_create", 6, ["jira_create_ticket", "jira_create_sprint", "jira_create_epic"]),
    (
        "pull.?request",
        8,
        ["github_list_pull_request", "github_get_pull_request", "github_create_pull_request"],
    ),
    ("export.*csv", 0, []),
    ("zzz", 0, []),
    ("(a+)+b", 48, ["db_list_table", "db_get_table", "db_create_table"]),
    ("", 1200, ["github_list_issue", "github_get_issue", "github_create_issue"]),
    ("^$", 0, []),
    ("CSV$", 0, []),
    (
        "(github|jira)_(get|list)_",
        24,
        ["github_list_issue", "github_get_issue", "jira_list_ticket"],
    ),
    ("[0-9]", 0, []),
    ("its id\\.", 0, []),
    ("a.c", 671, ["github_list_issue", "github_search_issue", "github_archive_issue"]),
    ("ticket|sprint|epic", 32, ["jira_list_ticket", "jira_get_ticket", "jira_create_ticket"]),
    ("^[a-c]+_", 0, []),
    (
        "region\\.$",
        200,
        ["github_list_issue_europe", "github_get_issue_europe", "github_create_issue_europe"],
    ),
    ("x{0}y", 783, ["github_list_issue", "github_get_issue", "github_delete_issue"]),
    ("(?:ab)+", 48, ["db_list_table", "db_get_table", "db_create_table"]),
    (
        "csv spreadsheet\\. in",
        25,
        ["github_export_issue_europe", "jira_export_ticket_europe", "slack_export_message_europe"],
    ),
    ("page by page", 150, ["github_list_issue", "jira_list_ticket", "slack_list_message"]),
    ("ID\\.", 0, []),
    ("é|ü", 0, []),
    ("[^a-z_ ]", 1200, ["github_list_issue", "github_get_issue", "github_create_issue"]),
]
#: sha256 of every query's complete answer for a caller seeing every tool (as 68c379f and
#: the versions before it answered).
DIGESTS: dict[str, str] = {
    "bm25": "c180c2a8aa5161ac813086a51523941a03895a6cd0566dc3c60b584dd3dbbb00",
    "regex": "6e6700157f31e44115830cec4a02038bf0a8b989bcf674a7422592fc95ffe6c9",
}


def _catalog() -> list[ToolSpec]:
    spec = importlib.util.spec_from_file_location("search_catalog", BENCH)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("search_catalog", module)
    spec.loader.exec_module(module)
    tools: list[ToolSpec] = module.catalog(1200)  # (200 of them a region's copies)
    return tools


@pytest.mark.parametrize("mode", ["bm25", "regex"])
def test_the_answers_are_those_of_the_reference_catalog(mode: SearchMode) -> None:
    tools = _catalog()
    every = {spec.name for spec in tools}
    half = {spec.name for i, spec in enumerate(tools) if i % 2}
    search = ToolSearch(mode, max_results=10_000)
    # A caller that sees half the tools gets what a catalog of only those answers: the same
    # tools as a filtered full answer, ranked by the statistics of that half (BM25).
    only_half = [spec for spec in tools if spec.name in half]
    half_search = ToolSearch(mode, max_results=10_000)
    digest = hashlib.sha256()
    for query, count, first in BM25 if mode == "bm25" else REGEX:
        found = [spec.name for spec in search.find(tools, query, every)]
        assert (len(found), found[:3]) == (count, first), query
        digest.update(("\n".join([query, *found]) + "\n\n").encode())
        shown = [spec.name for spec in search.find(tools, query, half)]
        alone = [spec.name for spec in half_search.find(only_half, query, half)]
        assert shown == alone, query
        assert sorted(shown) == sorted(name for name in found if name in half), query
    assert digest.hexdigest() == DIGESTS[mode]


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tools a search reads from now on, in order."""
    read: list[str] = []
    real = search.document

    def document(spec: ToolSpec) -> Document:
        read.append(spec.name)
        return real(spec)

    monkeypatch.setattr(search, "document", document)
    return read


def test_an_unchanged_catalog_is_not_read_or_indexed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tools = _catalog()[:50]
    names = {spec.name for spec in tools}
    lists = [tools, list(tools), [*tools[:10], *tools[11:]], tools[:30], tools]
    # What a search that never saw the catalog before answers for each list.
    fresh = [ToolSearch(max_results=50).find(each, "jira ticket", names) for each in lists]
    read = _counting_reads(monkeypatch)
    built: list[int] = []

    class Counted(Bm25Index):
        __slots__ = ()

        def __init__(self, names: list[str], lengths: list[int], postings: Postings) -> None:
            built.append(len(names))
            super().__init__(names, lengths, postings)

    monkeypatch.setattr(search, "Bm25Index", Counted)
    finder = ToolSearch(max_results=50)
    # The same tools in a new list (a visibility change that hid none) keep their index; a
    # tool removed, then 20 more, then all back: the same answers, those 21 read again.
    assert [finder.find(each, "jira ticket", names) for each in lists] == fresh
    assert built == [50, 49, 30, 50]
    assert read == [spec.name for spec in (*tools, tools[10], *tools[30:])]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_change_reads_only_the_tools_that_changed_mounted_ones_included(
    era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = _counting_reads(monkeypatch)
    inner = Server("inner")
    for spec in _catalog()[:30]:
        inner.tools.add(spec.name, spec)
    server = Server("outer")
    server.mount(inner, namespace="in")
    server.add_tool_search()

    @server.tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return city

    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        await client.call_tool("search_tools", {"query": "weather"})
        assert len(read) == 31
        # A new tool: the mounted tools are shown as new specs, but are the same tools.
        server.add_tool(lambda: "ok", name="get_forecast", description="The weather ahead.")
        found = await client.call_tool("search_tools", {"query": "weather"})
        assert read[31:] == ["get_forecast"]
        assert found.structured_content is not None
        names = [tool["name"] for tool in found.structured_content["tools"]]
        assert names[:2] == ["get_weather", "get_forecast"]
