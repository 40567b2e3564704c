"""Tool search over a generated catalog (docs/compose.md, "Large catalogs: tool search"): in
both modes, the first search of a search never prepared (every tool read, the BM25 index
built, by that search), what a server's start costs instead (`ToolSearch.prepare`, the same
work in a process that never read a word) and its first search after that, the first
search after one change and a warm search, and whether the right tool is among the first
three for each query of `QUERIES`, the documented query set.

    python bench/search_catalog.py [--tools 1000] [--rounds 200] [--clock cpu] [--json]

The catalog is 25 services x 5 objects x 8 verbs, then copies of it in 4 regions (`catalog(n)`
takes the first n, 5,000 at most); each tool
has a description in words that are not all in its name, and arguments. tests/compose
checks the top-3 property on a smaller catalog; timings are only measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from mcpkit import Client, Server
from mcpkit.server.catalog.search import bm25
from mcpkit.server.catalog.search.finder import SearchMode, ToolSearch
from mcpkit.server.catalog.tools import ToolSpec, make_tool

SERVICES: dict[str, tuple[str, ...]] = {
    "github": ("issue", "pull_request", "repository", "release", "gist"),
    "jira": ("ticket", "sprint", "epic", "board", "worklog"),
    "slack": ("message", "channel", "reaction", "reminder", "user_group"),
    "calendar": ("event", "attendee", "room", "availability", "invitation"),
    "drive": ("file", "folder", "permission", "revision", "shortcut"),
    "billing": ("invoice", "subscription", "coupon", "refund", "payment_method"),
    "crm": ("contact", "deal", "company", "pipeline", "note"),
    "weather": ("forecast", "alert", "station", "observation", "radar_image"),
    "maps": ("route", "place", "geocode", "traffic_report", "elevation"),
    "email": ("draft", "thread", "label", "filter", "attachment"),
    "docs": ("document", "comment", "template", "heading", "suggestion"),
    "sheets": ("spreadsheet", "row", "chart", "pivot_table", "named_range"),
    "shop": ("order", "product", "cart", "shipment", "discount"),
    "hr": ("employee", "leave_request", "payslip", "review", "position"),
    "support": ("case", "macro", "satisfaction_survey", "agent", "queue"),
    "cloud": ("instance", "bucket", "snapshot", "load_balancer", "dns_record"),
    "db": ("table", "index", "backup", "replica", "migration"),
    "ci": ("pipeline_run", "artifact", "runner", "secret", "schedule"),
    "music": ("playlist", "track", "album", "podcast", "queue_item"),
    "travel": ("flight", "hotel_booking", "itinerary", "visa", "car_rental"),
    "finance": ("transaction", "budget", "stock_quote", "exchange_rate", "tax_form"),
    "health": ("appointment", "prescription", "lab_result", "vaccination", "insurance_claim"),
    "iot": ("device", "sensor_reading", "firmware", "thermostat", "door_lock"),
    "news": ("article", "feed", "headline", "bookmark", "newsletter"),
    "learning": ("course", "lesson", "quiz", "certificate", "enrollment"),
}

# verb -> (description template, its arguments as name -> description)
VERBS: dict[str, tuple[str, dict[str, str]]] = {
    "list": ("Show every {o} of the {s} account, page by page.", {"limit": "Most per page."}),
    "get": ("Fetch one {s} {o} by its id, with all its fields.", {"{u}_id": "Its id."}),
    "create": ("Make a new {s} {o} from the fields given.", {"fields": "Its fields."}),
    "update": ("Change the fields of an existing {s} {o}.", {"{u}_id": "Its id."}),
    "delete": ("Remove a {s} {o} permanently; it cannot be undone.", {"{u}_id": "Its id."}),
    "search": ("Find {s} {o} entries whose text matches a query.", {"query": "Words."}),
    "archive": ("Move a {s} {o} out of sight without destroying it.", {"{u}_id": "Its id."}),
    "export": ("Download {s} {o} records as a CSV spreadsheet.", {"since": "First date."}),
}

#: The documented query set: what a model would type, and the tool it is after.
QUERIES: list[tuple[str, str]] = [
    ("open a new jira ticket", "jira_create_ticket"),
    ("remove a slack message permanently", "slack_delete_message"),
    ("download github pull requests as csv", "github_export_pull_request"),
    ("find calendar events matching some text", "calendar_search_event"),
    ("get the weather forecast", "weather_get_forecast"),
    ("change an existing crm deal", "crm_update_deal"),
    ("show every invoice in billing", "billing_list_invoice"),
    ("make a new playlist", "music_create_playlist"),
    ("hide a drive folder without destroying it", "drive_archive_folder"),
    ("fetch an employee by id", "hr_get_employee"),
    ("cancel a hotel booking for good", "travel_delete_hotel_booking"),
    ("new cloud storage bucket", "cloud_create_bucket"),
    ("export bank transactions to a spreadsheet", "finance_export_transaction"),
    ("update iot device settings", "iot_update_device"),
    ("search news feeds", "news_search_feed"),
    ("list the lessons", "learning_list_lesson"),
    ("export db tables as csv", "db_export_table"),
    ("delete a ci build artifact", "ci_delete_artifact"),
    ("get a driving route", "maps_get_route"),
    ("archive an email thread", "email_archive_thread"),
]


#: Patterns for the regex mode, which scans every tool: some found early, some nowhere (the
#: whole catalog read), one that would make `re` backtrack.
REGEX_QUERIES: list[str] = ["^jira_create", "pull.?request", "export.*csv", "zzz", "(a+)+b"]


def _tool(service: str, verb: str, obj: str, region: str = "") -> ToolSpec:
    words = obj.replace("_", " ")
    template, arguments = VERBS[verb]
    where = f" In the {region} region." if region else ""
    properties = {
        name.format(u=obj): {"type": "string", "description": text}
        for name, text in arguments.items()
    }

    def handler(**_: Any) -> str:  # never called: only searched
        return ""

    return make_tool(
        handler,
        name=f"{service}_{verb}_{obj}" + (f"_{region}" if region else ""),
        description=template.format(s=service, o=words) + where,
        input_schema={"type": "object", "properties": properties},
    )


#: Regions of the copies that make catalogs past 1,000 tools (`catalog`).
REGIONS: tuple[str, ...] = ("europe", "america", "asia", "staging")


def catalog(size: int) -> list[ToolSpec]:
    """The first `size` tools of the generated catalog (5,000 at most): every service's first
    object with its 8 verbs, then every service's second one, and so on (the first 400 hold
    every tool of `QUERIES`); past 1,000, the same tools again for each of `REGIONS`."""
    tools = [
        _tool(service, verb, objects[rank], region)
        for region in ("", *REGIONS)
        for rank in range(5)
        for service, objects in SERVICES.items()
        for verb in VERBS
    ]
    return tools[:size]


def rank_of(search: ToolSearch, tools: list[ToolSpec], query: str, wanted: str) -> int | None:
    """Where `wanted` comes in the answer to `query` (1 for first), None if not in it."""
    names = [spec.name for spec in search.find(tools, query, {t.name for t in tools})]
    return names.index(wanted) + 1 if wanted in names else None


#: The clock of the in-process figures: "wall" (perf_counter) or "cpu" (this thread's CPU
#: time, steadier on a machine that others share); set by `--clock`.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def _median_ms(
    run: Callable[[], object], rounds: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = clock()
        kept = run()
        times.append((clock() - start) * 1000)
        del kept  # (a search `run` made is freed outside the timing: a server keeps its own)
    return statistics.median(times), max(times)


async def _answers_ms(tools: list[ToolSpec], rounds: int) -> tuple[float, float]:
    """A search tools/call through `Client` in memory, the whole way (its index warm)."""
    server = Server("catalog")
    for spec in tools:
        server.tools.add(spec.name, spec)
    server.add_tool_search(max_results=3)
    times = []
    async with Client(server) as client:
        await client.call_tool("search_tools", {"query": "warm"})
        for i in range(rounds):
            query = QUERIES[i % len(QUERIES)][0]
            start = time.perf_counter()
            await client.call_tool("search_tools", {"query": query})
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def measure(
    mode: SearchMode, tools: list[ToolSpec], rounds: int, clock: Callable[[], float]
) -> dict[str, tuple[float, float]]:
    """(median, max) in ms of a mode's first search with nothing read yet (the index built
    by that search), what starting costs instead (`prepare`, in a new process) and the first
    search after it, the first search after one tool was added or removed, and a search
    once warm."""
    shown = {t.name for t in tools}
    queries = itertools.cycle([query for query, _ in QUERIES] if mode == "bm25" else REGEX_QUERIES)
    extra = _tool("extra", "get", "thing")
    shown_changed = shown | {extra.name}
    changes = itertools.count()
    search = ToolSearch(mode, max_results=3)

    def start() -> ToolSearch:
        # A server starting in a new process: no word read before (the table of the words
        # seen, shared by every search of the process, emptied), every tool read, indexed.
        bm25._TOKENS_OF.clear()  # pyright: ignore[reportPrivateUsage]
        fresh = ToolSearch(mode, max_results=3)
        fresh.prepare(list(tools))
        return fresh

    def after_start() -> float:
        # A server's first search: its index was built as it started (not timed).
        started = ToolSearch(mode, max_results=3)
        started.prepare(list(tools))
        begin = clock()
        started.find(tools, next(queries), shown)
        return (clock() - begin) * 1000

    def first() -> ToolSearch:
        # A search never prepared: every tool read (and indexed) by its first query.
        fresh = ToolSearch(mode, max_results=3)
        fresh.find(list(tools), next(queries), shown)
        return fresh

    def after_change() -> None:
        # One tool added or removed: a new list (as the registry makes), then a query.
        changed = tools[:-1] if next(changes) % 2 else [*tools, extra]
        search.find(changed, next(queries), shown_changed)

    def warm() -> None:
        search.find(tools, next(queries), shown)

    few = max(rounds // 10, 5)
    figures = {"first": _median_ms(first, few, clock)}
    figures["start"] = _median_ms(start, few, clock)
    after_starts = [after_start() for _ in range(few)]
    figures["first_after_start"] = (statistics.median(after_starts), max(after_starts))
    search.find(tools, "warm", shown)
    figures["after_change"] = _median_ms(after_change, few, clock)
    search.find(tools, "warm", shown)
    figures["warm"] = _median_ms(warm, rounds, clock)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Tool search over a generated catalog.")
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tools = catalog(args.tools)
    clock = CLOCKS[args.clock]
    modes: dict[str, dict[str, tuple[float, float]]] = {
        mode: measure(mode, tools, args.rounds, clock) for mode in ("bm25", "regex")
    }
    answer_ms = asyncio.run(_answers_ms(tools, args.rounds))
    search = ToolSearch(max_results=3)
    ranks = {q: rank_of(search, tools, q, wanted) for q, wanted in QUERIES}
    top3 = sum(1 for rank in ranks.values() if rank is not None and rank <= 3)
    figures: dict[str, Any] = {"tools": len(tools), "clock": args.clock}
    for mode, found in modes.items():
        for what, (median, most) in found.items():
            figures[f"{mode}_{what}_ms_median"] = round(median, 3)
            figures[f"{mode}_{what}_ms_max"] = round(most, 3)
    figures["answer_through_client_ms_median"] = round(answer_ms[0], 3)
    figures["answer_through_client_ms_max"] = round(answer_ms[1], 3)
    figures["top3"] = f"{top3}/{len(QUERIES)}"
    figures["ranks"] = ranks
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{len(tools)} tools ({args.clock} clock), median / max ms:")
    labels = {
        "first": "first search, never prepared",
        "start": "start (prepare, new process)",
        "first_after_start": "first search after start",
        "after_change": "first search after one change",
        "warm": "search, warm",
    }
    for mode, found in modes.items():
        for what, (median, most) in found.items():
            print(f"  {mode:5} {labels[what]:32} {median:8.3f} / {most:8.3f}")
    print(f"search_tools answered through Client (in memory, wall): median {answer_ms[0]:.3f} ms")
    print(f"right tool in the top 3: {top3}/{len(QUERIES)}")
    for q, rank in ranks.items():
        print(f"  {rank!s:>4}  {q}")


if __name__ == "__main__":
    main()
