"""One client must not lock everyone out (issue 19): sessions are capped per client address
without auth and per user with it (a client at its cap ends its own longest-idle session,
or gets 503 naming the setting when all of them are busy), and a call whose client went away
no longer holds its session against expiry or eviction."""

from __future__ import annotations

import asyncio
import itertools

import httpx
from _resource_helpers import ALICE, BOB, bearer, open_as, scoped_server
from _serving import INITIALIZE, WAIT, headers, open_session, serving

from mcpkit import Server
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.client_caps import ClientCaps
from mcpkit.transports.http.live_sessions import MemorySessionRegistry

URL = "http://127.0.0.1/mcp"
PING = {"jsonrpc": "2.0", "id": 5, "method": "ping"}
HOLD = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hold"}}
HUNG_UP_IDS = itertools.count(100)


class Idle:
    def __init__(self, since: float | None) -> None:
        self.idle_since = since


def from_address(app: McpHttpApp, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 4000)))


def holding_server() -> tuple[Server, asyncio.Event, asyncio.Queue[None]]:
    """A server whose `hold` calls run until `release` is set; each puts one item in the
    queue as it starts."""
    server = Server("hold")
    release = asyncio.Event()
    started: asyncio.Queue[None] = asyncio.Queue()

    @server.tool()
    async def hold() -> str:
        started.put_nowait(None)
        await release.wait()
        return "done"

    return server, release, started


def test_the_registry_counts_each_clients_sessions() -> None:
    registry: MemorySessionRegistry[Idle] = MemorySessionRegistry(max_sessions=9, idle_timeout=5)
    registry.add("a1", Idle(3), "a")
    registry.add("a2", Idle(1), "a")
    registry.add("b1", Idle(0), "b")
    registry.add("anon", Idle(0))
    assert registry.count("a") == 2 and registry.count("b") == 1 and registry.count("c") == 0
    found = registry.longest_idle("a")
    assert found is not None and found[0] == "a2"  # b1 is idle longer, but not a's
    registry.remove("a2")
    registry.remove("a1")
    assert registry.count("a") == 0 and registry.longest_idle("a") is None


def test_a_client_is_its_user_with_auth_and_its_address_without() -> None:
    caps = ClientCaps(per_user=2, per_address=3)
    assert caps.of(("sub", "iss", "alice"), "10.0.0.1") == (
        ("user", ("sub", "iss", "alice")),
        2,
        "max_sessions_per_user",
    )
    assert caps.of(None, "10.0.0.1") == (("address", "10.0.0.1"), 3, "max_sessions_per_address")
    assert caps.of(None, None) is None


async def test_one_address_opening_sessions_without_end_never_fills_the_server() -> None:
    # Before: 10,000 sessions from one client left every other client 503 for 30 minutes.
    app = McpHttpApp(Server("caps"), max_sessions=10, max_sessions_per_address=3)
    async with (
        asyncio.timeout(WAIT),
        from_address(app, "10.0.0.66") as attacker,
        from_address(app, "10.0.0.7") as other,
    ):
        opened = [await open_session(attacker, URL) for _ in range(50)]
        assert len(app.sessions) == 3  # the attacker's own oldest went, one by one
        assert (await attacker.post(URL, json=PING, headers=headers(opened[0]))).status_code == 404
        assert (await attacker.post(URL, json=PING, headers=headers(opened[-1]))).status_code == 200
        mine = await open_session(other, URL)
        assert (await other.post(URL, json=PING, headers=headers(mine))).status_code == 200


async def test_an_address_whose_sessions_are_all_busy_gets_503_naming_the_setting() -> None:
    server, release, _ = holding_server()
    app = McpHttpApp(server, max_sessions=10, max_sessions_per_address=2)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        held = [await open_session(client, url) for _ in range(2)]
        calls = [
            asyncio.create_task(client.post(url, json=HOLD, headers=headers(sid))) for sid in held
        ]
        while any(s.idle_since is not None for _, s in app.sessions.items()):
            await asyncio.sleep(0.01)  # bounded by the timeout above
        refused = await client.post(url, json=INITIALIZE, headers=headers())
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "max_sessions_per_address" in refused.json()["error"]["message"]
        release.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*calls))


async def test_with_auth_each_user_has_its_own_cap() -> None:
    server, _ = scoped_server()
    app = server.http_app(max_sessions=20, max_sessions_per_user=2)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        alices = [await open_as(client, url, ALICE) for _ in range(6)]
        bob = await open_as(client, url, BOB)
        assert len(app.sessions) == 3  # two of alice's (her newest), one of bob's
        first = await client.post(url, json=PING, headers=bearer(ALICE, alices[0]))
        assert first.status_code == 404
        for sid, token in ((alices[-1], ALICE), (bob, BOB)):
            live = await client.post(url, json=PING, headers=bearer(token, sid))
            assert live.status_code == 200


async def call_and_hang_up(
    client: httpx.AsyncClient, url: str, sid: str, started: asyncio.Queue[None]
) -> None:
    """POST a call that never ends on its own, and drop the connection once it runs. Each
    gets an id of its own: the session still runs the calls before it."""
    call = {**HOLD, "id": next(HUNG_UP_IDS)}
    task = asyncio.create_task(client.post(url, json=call, headers=headers(sid)))
    await started.get()  # the call runs (bounded by the caller's timeout)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_calls_whose_client_hung_up_do_not_hold_their_session() -> None:
    # Before: 50 calls of a slow tool behind dropped POSTs held their sessions forever, and
    # with them every place of the server, while the attacker held no connection.
    for json_response in (False, True):
        server, release, started = holding_server()
        app = McpHttpApp(server, max_sessions=2, json_response=json_response)
        limits = httpx.Limits(max_connections=None)
        async with (
            asyncio.timeout(WAIT),
            serving(app) as base,
            httpx.AsyncClient(limits=limits) as client,
        ):
            url = base + "/mcp"
            for sid in [await open_session(client, url) for _ in range(2)]:
                for _ in range(5):
                    await call_and_hang_up(client, url, sid, started)
            while not all(s.idle_since is not None for _, s in app.sessions.items()):
                await asyncio.sleep(0.02)  # each hang-up is seen within a few turns; bounded
            newcomer = await open_session(client, url)  # the longest idle made room
            answer = await client.post(url, json=PING, headers=headers(newcomer))
            assert answer.status_code == 200, json_response
            release.set()
