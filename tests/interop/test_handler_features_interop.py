"""What issue 42 gave handlers, used by clients nobody here wrote: the official Python SDK's
client (2025-11-25 and 2026-07-28), the TypeScript SDK v1's (2025-11-25) and v2's (both).

One mcpkit server (peers/mcpkit_handlers_server.py), served over Streamable HTTP on
127.0.0.1 in this process (open, protected by bearer tokens, and as a stateless app), and
over stdio by `mcpkit run`. Every client runs the same plan of calls
(peers/official_handlers_client.py, peers/handlers_ts_client.mjs) and one check judges what
each saw, by era and setup (handlers_plan.py):

- typed middleware: `on_list_tools` hides `internal_reset`, `on_call_tool` refuses it and
  trims the arguments `greet` gets, `on_read_resource` reads an alias, `on_get_prompt`
  trims a prompt's arguments, `on_initialize` welcomes a 2025-11-25 client by name and
  `on_discover` a 2026-07-28 one that probes (`auto`);
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
  HTTP `"url"`: a link to the approval page, approved there, and the call made again),
  by TypeScript clients that declare URL mode alone (sent to the page), and by clients that
  declare forms and answer "method not found" (the fallbacks, as for none);
- ErrorTransform (`inventory`), RetryTools (`flaky`), DereferenceSchemas (`place_order`);
- dependency injection (`caller`): the token's owner and the request's headers, without
  Authorization; KeepAlive (`await_ping`): a 2025-11-25 client answers the session's ping.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from _processes import finished
from handlers_plan import HANDSHAKE, MODERN, Plan, Setup, make_plan, text
from interop_harness import PEERS, SUBPROCESS_TIMEOUT, peer_env, require_node, require_python_sdk

from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(PEERS))
from _serving import serving
from mcpkit_handlers_server import make_server


class TokenOwners:
    """A `TokenVerifier` for which token `tok.NAME` speaks for NAME."""

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if not token.startswith("tok."):
            raise InvalidToken("the token is unknown")
        return AccessToken(subject=token[4:], client_id="interop", scopes=frozenset({"mcp"}))


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
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        out, err = await finished(proc)
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
    ("official", MODERN, MODERN, False),
    ("official", "auto", MODERN, True),
    *[("ts-v1", "legacy", HANDSHAKE, p) for p in (False, True)],
    *[("ts-v2", "legacy", HANDSHAKE, p) for p in (False, True)],
    ("ts-v2", MODERN, MODERN, False),
    ("ts-v2", "auto", MODERN, True),
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
STDIO_RUNS = [("official", MODERN, MODERN), ("ts-v2", "legacy", HANDSHAKE)]


@pytest.mark.parametrize(
    ("client", "mode", "era"), STDIO_RUNS, ids=[f"{c}-{e}" for c, _, e in STDIO_RUNS]
)
async def test_outside_clients_over_stdio(client: str, mode: str, era: str) -> None:
    plan, check = make_plan(Setup(era, http=False))
    server = [sys.executable, "-m", "mcpkit", "run", str(PEERS / "mcpkit_handlers_server.py")]
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        summary = await summary_of(client, mode, plan, server)
    check(summary)


# TypeScript clients that declare URL-mode elicitation alone (the official client declares
# forms beside it, so it is asked in a form): the question sends the user to the approval
# page, where the client's handler approves, as its user would, before it accepts.
URL_RUNS = [
    ("ts-v1", "legacy", HANDSHAKE),
    ("ts-v2", "legacy", HANDSHAKE),
    ("ts-v2", MODERN, MODERN),
]


@pytest.mark.parametrize(
    ("client", "mode", "era"), URL_RUNS, ids=[f"{c}-{e}" for c, _, e in URL_RUNS]
)
async def test_url_mode_clients_are_sent_to_the_approval_page(
    client: str, mode: str, era: str
) -> None:
    plan = Plan({"u": None})
    plan.connections["u"]["url_elicitation"] = True
    plan.call("publish", "publish_note", conn="u", path="todo.md")
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), endpoint(Setup(era)) as url:
        summary = await summary_of(client, mode, plan, [url])
    assert summary["versions"] == {"u": era}
    assert plan.by_id(summary)["publish"] == text("Published todo.md")
    (opened,) = summary["urls_opened"]
    assert opened.startswith(url.removesuffix("/mcp") + "/mcp-approval?t=")


# Clients that declare form elicitation and then answer "method not found" (the TypeScript
# ones: no handler registered; the official one: a callback that says so). In 2025-11-25
# that answer comes back to the server, which falls back as for a client that declared
# none. (In 2026-07-28 the question travels in the tool's input_required result, and such a
# client fails on its own side: the server never hears of it; docs/server.md.)
MISREPORTING = [("official", "legacy"), ("ts-v1", "legacy"), ("ts-v2", "legacy")]


@pytest.mark.parametrize(("client", "mode"), MISREPORTING, ids=[c for c, _ in MISREPORTING])
async def test_clients_that_declare_forms_they_cannot_answer(client: str, mode: str) -> None:
    plan = Plan({"f": None})
    plan.connections["f"]["form_unanswered"] = True
    plan.call("remove", "remove_note", conn="f", path="todo.md")
    plan.call("publish", "publish_note", conn="f", path="todo.md")
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), endpoint(Setup(HANDSHAKE)) as url:
        summary = await summary_of(client, mode, plan, [url])
    got = plan.by_id(summary)
    assert got["remove"]["is_error"] and "confirm=true" in got["remove"]["text"]
    assert got["publish"]["is_error"] and "/mcp-approval?t=" in got["publish"]["text"]
