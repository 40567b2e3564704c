"""Two apps (two processes, as far as the store and the broker can tell) sharing a Redis
store serve one 2025-11-25 session: what a request to one changes in the session's record
(the log level, a subscription) reaches the copy the other holds, through the broker's
SESSION_CHANGED, and a DELETE served by one ends the copy the other holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from _redis_server import RedisServer
from _serving import ACCEPT, VERSION, WAIT, serving

from mcpkit import Client, Server


def notes(url: str) -> Server:
    server = Server("notes", store=url)

    @server.resource("notes://today")
    def today() -> str:
        return "nothing yet"

    return server


async def until(check: Callable[[], bool]) -> None:
    for _ in range(int(WAIT / 0.02)):  # bounded: WAIT seconds
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the wait")


async def test_a_change_made_through_one_process_reaches_the_others_copy(
    redis_server: RedisServer,
) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/6"
    here, there = notes(url), notes(url)
    app_here, app_there = here.http_app(), there.http_app()
    async with (
        asyncio.timeout(WAIT * 2),
        serving(app_here) as base_here,
        serving(app_there) as base_there,
        httpx.AsyncClient() as http,
    ):
        async with Client(f"{base_here}/mcp", protocol="2025-11-25") as client:
            sid = client.session_id
            assert sid is not None
            (held,) = here.sessions

            async def post_there(method: str, params: dict[str, object]) -> int:
                answer = await http.post(
                    f"{base_there}/mcp",
                    json={"jsonrpc": "2.0", "id": 9, "method": method, "params": params},
                    headers={
                        "accept": ACCEPT,
                        "mcp-session-id": sid,
                        "mcp-protocol-version": VERSION,
                    },
                )
                return answer.status_code

            assert await post_there("logging/setLevel", {"level": "error"}) == 200
            await until(lambda: held.log_level == "error")
            assert await post_there("resources/subscribe", {"uri": "notes://today"}) == 200
            await until(lambda: held.subscriptions == {"notes://today"})

            ended = await http.delete(
                f"{base_there}/mcp",
                headers={"mcp-session-id": sid, "mcp-protocol-version": VERSION},
            )
            assert ended.status_code == 200
            await until(lambda: app_here.sessions.get(sid) is None)
            assert here.sessions == set()
    await here.store.aclose()
    await there.store.aclose()
