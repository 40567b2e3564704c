"""The plan every outside client runs against peers/mcpkit_handlers_server.py, and the
check of what it saw, by era and setup (test_handler_features_interop.py; the plan's format
is in README.md, "What a handler can ask for")."""

from __future__ import annotations

import base64
import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interop_harness import PEERS

from mcpkit.protocol import codes

sys.path.insert(0, str(PEERS))
from mcpkit_handlers_server import ORDER, REPORT, STALL_TIMEOUT, UNAVAILABLE

__all__ = ["HANDSHAKE", "MODERN", "Plan", "Setup", "make_plan", "text"]

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
#: What tools/list shows, sorted (not `internal_reset`: the typed middleware hides it).
TOOLS = (
    "area await_ping caller count digest flaky greet inventory lookup place_order "
    "remove_note report route stall stall_outcome total"
).split()
TIMED_OUT = f"tool 'stall' timed out after {STALL_TIMEOUT:g} s"
STATE_KEY = "io.mcpkit/stateKey"
Check = Callable[[dict[str, Any]], None]
REGION = " Zürich "  # `route`'s argument
#: The name each client gives in its initialize request.
CLIENT_NAMES = {
    "official": "official-handlers",
    "ts-v1": "handlers-ts-v1",
    "ts-v2": "handlers-ts-v2",
}


class Plan:
    """The steps every client takes, named, and the connections they take them on."""

    def __init__(self, connections: dict[str, str | None]) -> None:
        self.connections: dict[str, dict[str, Any]] = {
            name: {"token": token} for name, token in connections.items()
        }
        self.steps: list[dict[str, Any]] = []

    def add(self, step_id: str, op: str, conn: str = "a", **fields: Any) -> None:
        self.steps.append({"id": step_id, "op": op, "conn": conn, **fields})

    def call(
        self, step_id: str, tool: str, conn: str = "a", state_key: str = "", **args: Any
    ) -> None:
        meta = {"meta": {STATE_KEY: state_key}} if state_key else {}
        self.add(step_id, "call", conn, tool=tool, args=args, **meta)

    def json(self) -> str:
        return json.dumps({"connections": self.connections, "steps": self.steps})

    def by_id(self, summary: dict[str, Any]) -> dict[str, Any]:
        results = summary["results"]
        assert len(results) == len(self.steps), summary
        return {step["id"]: result for step, result in zip(self.steps, results, strict=True)}


def text(value: object) -> dict[str, Any]:
    return {"is_error": False, "text": str(value)}


@dataclass(frozen=True)
class Setup:
    """How a client reaches the server: the era it speaks, with a token or not, over HTTP
    (one server for every connection) or stdio (a server per connection), and whether the
    HTTP app is stateless (`http_app(stateless=True)`: no session outlives a request)."""

    era: str
    protected: bool = False
    http: bool = True
    stateless_app: bool = False
    discovers: bool = False  # the client's mode is "auto": it sends server/discover first

    @property
    def sessions(self) -> bool:
        """Whether a caller is a session that outlives its request (docs/server.md, State)."""
        return self.era == HANDSHAKE and not self.stateless_app


def common_steps(plan: Plan, setup: Setup, tag: str, owner: str) -> Check:
    """Steps that see the same whatever the era: middleware, JSON strings, timeout, budget,
    what dependency injection hands a handler (`owner`, the token's; the client's revision
    header over HTTP); and for a session, a keepalive ping (over HTTP on the session's GET
    stream) answered."""
    plan.add("tools", "list")
    if setup.sessions:  # (a 2026-07-28 client, and a stateless app, keep no session alive)
        plan.call("ping", "await_ping")
    plan.call("greet", "greet", name="  Ada ")
    plan.add("alias", "read", uri="config://current")
    plan.add("review", "prompt", name="review", args={"code": "  x = 1  "})
    plan.call("hidden", "internal_reset")
    plan.call("route", "route", region=REGION)
    plan.call("area", "area", size='{"width": 2, "height": 3}')
    plan.call("total", "total", values="[1, 2, 3.5]")
    plan.call("caller", "caller")
    plan.call("inventory", "inventory", sku="A1")
    plan.call("flaky", "flaky", tag=tag)
    plan.add("schema", "schema", tool="place_order")
    plan.call("order", "place_order", ship_to='{"city": "Lisbon"}')
    plan.add("confirm_schema", "schema", tool="remove_note")
    plan.call("unconfirmed", "remove_note", path="todo.md")
    plan.call("confirmed", "remove_note", path="todo.md", confirm=True)
    if setup.http:  # (the approval page is served beside the MCP endpoint)
        plan.call("publish_unapproved", "publish_note", path="todo.md")
        plan.add("approve", "approve", link_of="publish_unapproved")
        plan.call("publish_approved", "publish_note", path="todo.md")
    plan.call("stall", "stall", tag=tag)
    plan.call("stall_outcome", "stall_outcome", tag=tag)
    plan.add("report", "overflow", tool="report")

    def check(got: dict[str, Any]) -> None:
        listed = sorted([*TOOLS, "publish_note"]) if setup.http else TOOLS
        assert got["tools"] == {"tools": listed}
        if setup.sessions:
            assert got["ping"] == text("answered")
        assert got["greet"] == text("Hello, Ada")
        assert got["alias"] == {"text": '{"debug": false}'}  # on_read_resource's alias
        assert got["review"] == {"messages": [["user", "Please review this code:\nx = 1"]]}
        # In 2026-07-28 over HTTP the client mirrors it into a header (base64: it is not
        # ASCII, and padded), which the server checks against the body before any
        # middleware; the hook then trims the body's.
        mirrored = setup.http and setup.era == MODERN
        header = "=?base64?" + base64.b64encode(REGION.encode()).decode() + "?="
        assert got["route"] == text(f"routed to Zürich; header {header if mirrored else 'absent'}")
        assert got["hidden"] == {
            "error": codes.INVALID_PARAMS,
            "message": "Unknown tool: internal_reset",
        }
        assert got["area"] == text(6.0)
        assert got["total"] == text(6.5)
        header = setup.era if setup.http else "no header"
        assert got["caller"] == text(f"{owner}; {header}; authorization hidden")
        # ErrorTransform's message, not the exception's text; RetryTools' third attempt
        assert got["inventory"] == {"is_error": True, "text": UNAVAILABLE}
        assert got["flaky"] == text("answered on attempt 3")
        # DereferenceSchemas wrote the $ref out; a JSON string fits the written-out object
        assert got["schema"]["properties"]["ship_to"] == ORDER["$defs"]["Address"]
        assert "$ref" not in json.dumps(got["schema"])
        assert got["order"] == text("shipping to Lisbon")
        # These clients declare no elicitation: the model confirms (when_cannot_ask="confirm")
        assert got["confirm_schema"]["properties"]["confirm"]["type"] == "boolean"
        assert "confirm" not in got["confirm_schema"].get("required", [])
        unconfirmed = got["unconfirmed"]
        assert unconfirmed["is_error"], unconfirmed
        assert '"Remove todo.md?"' in unconfirmed["text"] and "confirm=true" in unconfirmed["text"]
        assert got["confirmed"] == text("Removed todo.md")
        if setup.http:  # when_cannot_ask="url": a link, approved, then the call again
            unapproved = got["publish_unapproved"]
            assert unapproved["is_error"] and "/mcp-approval?t=" in unapproved["text"]
            assert got["approve"] == {"status": 200}
            assert got["publish_approved"] == text("Published todo.md")
        assert got["stall"] == {"is_error": True, "text": TIMED_OUT}
        assert got["stall_outcome"] == text("cancelled")
        report = got["report"]
        assert report["joined"] == REPORT
        assert report["pages"] > 1 and report["link_mime"] == "text/plain"

    return check


def overflow_reader_steps(plan: Plan, setup: Setup) -> Check:
    """Who else may read the first page `report` linked: a session's, that session alone;
    else its token's owner, else whoever has the URI (docs/server.md, "Result budgets").
    Anyone else is told the resource is not found, in the era's code."""
    others = {"b": not setup.sessions, "c": not setup.sessions and not setup.protected}
    if not setup.http:
        others = {}
    for conn in others:
        plan.add(f"read_{conn}", "read", conn, uri_of="report")
    # A shared ResponseCache over a tool whose rest is linked: each caller gets a link of its
    # own that it can read (a kept answer would link another caller's).
    digests = ["a", "b", "c"] if setup.http else ["a"]
    for conn in digests:
        plan.add(f"digest_{conn}", "overflow", conn, tool="digest")
    not_found = codes.RESOURCE_NOT_FOUND if setup.era == HANDSHAKE else codes.INVALID_PARAMS

    def check(got: dict[str, Any]) -> None:
        # (TypeScript v2 reports either code as its ResourceNotFoundError's, -32602)
        code = codes.INVALID_PARAMS if got["client"] == "ts-v2" else not_found
        for conn, readable in others.items():
            read = got[f"read_{conn}"]
            if readable:
                page, _, note = read["text"].partition("[page 1 of ")
                assert page and page in REPORT and note, read
            else:
                assert read["error"] == code, read
        for conn in digests:
            digest = got[f"digest_{conn}"]
            assert (digest["joined"], digest["pages"]) == (REPORT, 1)

    return check


def state_and_cache_steps(plan: Plan, setup: Setup, tag: str) -> Check:
    """`count` and `lookup` on connections a and b (and c): who shares state and cache."""
    if not setup.protected and not setup.sessions:
        return keyed_steps(plan, tag, "b" if setup.http else "a")
    plan.call("count_a1", "count")
    plan.call("count_a2", "count")
    plan.call("lookup_a1", "lookup", topic=tag)
    plan.call("lookup_a2", "lookup", topic=tag)
    # b is alice again on a connection of her own; c is bob (or, unprotected, a third
    # session). Over stdio each connection is a server process of its own: a alone there.
    others = ("b", "c") if setup.http else ()
    for conn in others:
        plan.call(f"count_{conn}", "count", conn=conn)
        plan.call(f"lookup_{conn}", "lookup", conn=conn, topic=tag)
    shared = not setup.sessions  # by the token's owner; else by the session

    def check(got: dict[str, Any]) -> None:
        assert [got["count_a1"], got["count_a2"]] == [text(1), text(2)]
        a1, a2 = got["lookup_a1"], got["lookup_a2"]
        assert not a1["is_error"] and a2 == a1  # the second from the cache
        if others:
            assert [got["count_b"], got["count_c"]] == [text(3 if shared else 1), text(1)]
            b, c = got["lookup_b"], got["lookup_c"]
            assert (b == a1) is shared and c != a1 and c != b

    return check


def keyed_steps(plan: Plan, tag: str, b: str) -> Check:
    """No session and no token: the client's state key is the caller, and without one there
    is none (docs/server.md, "State" and "Caching responses"). `b` is the other connection
    (over stdio, each connection starts a server of its own: there, the same one)."""
    mine, theirs = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    plan.call("count_none", "count")
    plan.call("count_a1", "count", state_key=mine)
    plan.call("count_a2", "count", state_key=mine)
    plan.call("count_b_mine", "count", conn=b, state_key=mine)
    plan.call("count_b_theirs", "count", conn=b, state_key=theirs)
    plan.call("lookup_none1", "lookup", topic=tag)
    plan.call("lookup_none2", "lookup", topic=tag)
    plan.call("lookup_a1", "lookup", state_key=mine, topic=tag)
    plan.call("lookup_a2", "lookup", state_key=mine, topic=tag)
    plan.call("lookup_b", "lookup", conn=b, state_key=theirs, topic=tag)

    def check(got: dict[str, Any]) -> None:
        none = got["count_none"]
        assert none["error"] == codes.INVALID_PARAMS and STATE_KEY in none["message"]
        counts = [got[n] for n in ("count_a1", "count_a2", "count_b_mine", "count_b_theirs")]
        assert counts == [text(1), text(2), text(3), text(1)]
        assert got["lookup_none1"] != got["lookup_none2"]  # no caller: served, never kept
        a1, a2, b = got["lookup_a1"], got["lookup_a2"], got["lookup_b"]
        assert not a1["is_error"] and a2 == a1 and b != a1

    return check


def make_plan(setup: Setup) -> tuple[Plan, Check]:
    """The plan, and its check of a client's summary."""
    run = secrets.token_hex(4)  # owners and tags of this run alone
    alice = f"alice-{run}" if setup.protected else "nobody"
    if setup.protected:
        plan = Plan({"a": f"tok.{alice}", "b": f"tok.{alice}", "c": f"tok.bob-{run}"})
    else:
        plan = Plan({"a": None, "b": None, "c": None})
    checks = [
        common_steps(plan, setup, f"stall-{run}", alice),
        overflow_reader_steps(plan, setup),
        state_and_cache_steps(plan, setup, run),
    ]

    def check(summary: dict[str, Any]) -> None:
        assert set(summary["versions"].values()) == {setup.era}, summary["versions"]
        if setup.era == HANDSHAKE:  # on_initialize welcomed it (2026-07-28 has no handshake)
            welcome = f"Welcome, {CLIENT_NAMES[summary['client']]}"
            assert set(summary["instructions"].values()) == {welcome}
        elif setup.discovers:  # on_discover did (a pinned client does not discover)
            assert set(summary["instructions"].values()) == {"Welcome, discoverer"}
        got = plan.by_id(summary) | {"client": summary["client"]}
        for each in checks:
            each(got)

    return plan, check
