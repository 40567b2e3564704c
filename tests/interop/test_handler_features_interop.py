"""What issue 42 gave handlers, used by clients nobody here wrote: the official Python SDK's
client (2025-11-25 and 2026-07-28), the TypeScript SDK v1's (2025-11-25) and v2's (both).

One mcpkit server (peers/mcpkit_handlers_server.py), served over Streamable HTTP on
127.0.0.1 in this process (open, protected by bearer tokens, and as a stateless app), and
over stdio by `mcpkit run`. Every client runs the same plan of calls
(peers/official_handlers_client.py, peers/handlers_ts_client.mjs) and one check judges what
each saw, by era and setup:

- typed middleware: `on_list_tools` hides `internal_reset`, `on_call_tool` refuses it and
  trims the arguments `greet` gets, `on_initialize` welcomes a 2025-11-25 client by name
  and `on_discover` a 2026-07-28 one that probes (`auto`);
- JSON-string arguments: `area`'s object and `total`'s array sent as JSON strings are taken;
- per-tool timeout: `stall` ends with the documented tool error, and its work was cancelled;
- result budget: `report`'s overflow is paged into resources the client reads, the head and
  the pages put together are the whole report, and only its caller may read them;
- state (`count`): per session in 2025-11-25; per token owner in 2026-07-28 (and for a
  stateless app), else per the client's `_meta["io.mcpkit/stateKey"]`, and without either
  the documented -32602;
- ResponseCache (`lookup`, whose text says how many ran): a repeated call is answered from
  the cache, per caller as state is, and a call with no caller is never kept;
- `route`'s argument mirrored into a header (`x-mcp-header`) by a 2026-07-28 client;
- a tool that asks, called by clients that declare no elicitation (`when_cannot_ask=
  "confirm"`: the generated `confirm` argument, and the result saying to use it; over
  HTTP `"url"`: a link to the approval page, approved there, and the call made again);
- ErrorTransform (`inventory`), RetryTools (`flaky`), DereferenceSchemas (`place_order`);
- dependency injection (`caller`): the token's owner and the request's headers, without
  Authorization; KeepAlive (`await_ping`): a 2025-11-25 client answers the session's ping.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from interop_harness import PEERS, SUBPROCESS_TIMEOUT, peer_env, require_node, require_python_sdk

from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.protocol import codes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(PEERS))
from _serving import serving
from mcpkit_handlers_server import ORDER, REPORT, STALL_TIMEOUT, UNAVAILABLE, make_server

HANDSHAKE = "2025-11-25"
STATELESS = "2026-07-28"
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


class TokenOwners:
    """A `TokenVerifier` for which token `tok.NAME` speaks for NAME."""

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if not token.startswith("tok."):
            raise InvalidToken("the token is unknown")
        return AccessToken(subject=token[4:], client_id="interop", scopes=frozenset({"mcp"}))


# ------------------------------------------------------------------ the plan and its check


class Plan:
    """The steps every client takes, named, and the connections they take them on."""

    def __init__(self, connections: dict[str, str | None]) -> None:
        self.connections = {name: {"token": token} for name, token in connections.items()}
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
        # In 2026-07-28 over HTTP the client mirrors it into a header (base64: it is not
        # ASCII, and padded), which the server checks against the body before any
        # middleware; the hook then trims the body's.
        mirrored = setup.http and setup.era == STATELESS
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


# ------------------------------------------------------------------ the clients


async def official(mode: str, plan: Plan, target: list[str]) -> dict[str, Any]:
    """The official Python SDK's client, in this process (this loop may serve `target`)."""
    require_python_sdk()
    from official_handlers_client import run_plan

    return await run_plan([mode, plan.json(), *target])


async def typescript(sdk: str, mode: str, plan: Plan, target: list[str]) -> dict[str, Any]:
    """peers/handlers_ts_client.mjs, awaited as a subprocess (this loop may serve `target`)."""
    argv = [require_node(), str(PEERS / "handlers_ts_client.mjs"), sdk, mode, plan.json()]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        *target,
        cwd=PEERS.parent,
        env=peer_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(SUBPROCESS_TIMEOUT):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"TypeScript {sdk} client failed:\n{err.decode()}"
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return summary


async def summary_of(client: str, mode: str, plan: Plan, target: list[str]) -> dict[str, Any]:
    if client == "official":
        return await official(mode, plan, target)
    return await typescript(client.removeprefix("ts-"), mode, plan, target)


@asynccontextmanager
async def endpoint(setup: Setup) -> AsyncIterator[str]:
    auth = ProtectedResource(verifier=TokenOwners()) if setup.protected else None
    app = make_server(approval_page=True, auth=auth).http_app(stateless=setup.stateless_app)
    async with serving(app) as base:
        yield base + "/mcp"


# (client, mode, the era it speaks, protected); the TypeScript SDK v1 speaks only the
# handshake. A 2026-07-28 client is pinned to it on the open server and probes for it
# (`auto`: server/discover first) on the protected one.
HTTP_RUNS = [
    *[("official", "legacy", HANDSHAKE, p) for p in (False, True)],
    ("official", STATELESS, STATELESS, False),
    ("official", "auto", STATELESS, True),
    *[("ts-v1", "legacy", HANDSHAKE, p) for p in (False, True)],
    *[("ts-v2", "legacy", HANDSHAKE, p) for p in (False, True)],
    ("ts-v2", STATELESS, STATELESS, False),
    ("ts-v2", "auto", STATELESS, True),
]


@pytest.mark.parametrize(
    ("client", "mode", "era", "protected"),
    HTTP_RUNS,
    ids=[f"{c}-{m}-{'bearer' if p else 'open'}" for c, m, _, p in HTTP_RUNS],
)
async def test_outside_clients_over_http(client: str, mode: str, era: str, protected: bool) -> None:
    await run_over_http(client, mode, Setup(era, protected, discovers=mode == "auto"))


async def run_over_http(client: str, mode: str, setup: Setup) -> None:
    plan, check = make_plan(setup)
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), endpoint(setup) as url:
        summary = await summary_of(client, mode, plan, [url])
    assert summary["client"] == client
    check(summary)


HANDSHAKE_RUNS = [(c, m) for c, m, era, protected in HTTP_RUNS if era == HANDSHAKE and protected]


@pytest.mark.parametrize(("client", "mode"), HANDSHAKE_RUNS, ids=[c for c, _ in HANDSHAKE_RUNS])
async def test_handshake_clients_of_a_stateless_app(client: str, mode: str) -> None:
    """A 2025-11-25 client of `http_app(stateless=True)`: its session ends with each request,
    so its caller is the state key it sends, as a 2026-07-28 client's (docs/server.md)."""
    await run_over_http(client, mode, Setup(HANDSHAKE, stateless_app=True))


# Over stdio each client in one era (each era by one of them): a server process per
# connection, so only what one connection sees is checked there.
STDIO_RUNS = [("official", STATELESS, STATELESS), ("ts-v2", "legacy", HANDSHAKE)]


@pytest.mark.parametrize(
    ("client", "mode", "era"), STDIO_RUNS, ids=[f"{c}-{e}" for c, _, e in STDIO_RUNS]
)
async def test_outside_clients_over_stdio(client: str, mode: str, era: str) -> None:
    plan, check = make_plan(Setup(era, http=False))
    server = [sys.executable, "-m", "mcpkit", "run", str(PEERS / "mcpkit_handlers_server.py")]
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        summary = await summary_of(client, mode, plan, server)
    check(summary)
