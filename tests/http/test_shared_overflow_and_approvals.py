"""A result's overflow and a `when_cannot_ask="url"` approval are kept in the server's store,
so the workers sharing it (`mcpkit run --workers 2`, on one SQLite file or one Redis) serve
each other's: an overflow page kept by one worker is read on the other, a link made by one is
decided on either and taken by the other, once, in both eras."""

from __future__ import annotations

import asyncio
import re
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from _redis_server import shared_store_url
from _running import mcpkit, running, stopped

from mcpkit import Client
from mcpkit.types import ResourceLink, TextContent, TextResourceContents

WAIT = 30.0  # seconds: a bound on hangs, never a measurement
pytestmark = pytest.mark.mcpkit_timeout(WAIT * 6)  # two workers started on a busy machine
APP = """
import os

from mcpkit import Context, Server
from mcpkit.server import ResultBudget

server = Server("shared")


@server.tool(max_result=ResultBudget(bytes=1024, overflow="paginate"))
def report(n: int) -> str:
    return f"kept by {os.getpid()}\\n" + "".join(f"{n} line {i:04d}\\n" for i in range(300))


@server.tool()
def pid() -> str:
    return str(os.getpid())


@server.tool()
async def read_back(uri: str, ctx: Context) -> str:
    contents = await ctx.read_resource(uri)
    return f"{os.getpid()} {contents[0].text}"


@server.tool(when_cannot_ask="url")
async def deploy(env: str, ctx: Context) -> str:
    asked = await ctx.server.kv.get(env)
    if asked is None:
        await ctx.server.kv.set(env, os.getpid())
    answer = await ctx.elicit(f"Deploy to {env}?", bool)
    if answer.action != "accept" or not answer.data:
        return f"not deployed: {answer.action}"
    return f"deployed asked-by {asked or os.getpid()} taken-by {os.getpid()}"
"""


def text_of(block: object) -> str:
    assert isinstance(block, TextContent | TextResourceContents), block
    return block.text


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_workers_serve_each_others_overflow_and_approvals(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str, era: str
) -> None:
    (tmp_path / "shared.py").write_text(APP)
    db = 8 if era == "2025-11-25" else 9  # a database no other test uses on the one server
    store = shared_store_url(kind, tmp_path, request, db=db, lease=10)
    argv = mcpkit("run", "shared.py", "--transport", "http", "--port", "0", "--workers", "2")
    close = {"Connection": "close"}  # each request on a connection of its own
    async with asyncio.timeout(WAIT * 6), running([*argv, "--store", store], tmp_path) as sup:
        url = await sup.started()
        path = tmp_path / "state.db" if kind == "sqlite" else None  # (a lock a stop may hold)

        def on(worker: int) -> AbstractAsyncContextManager[None]:
            """Worker `worker` takes the requests made meanwhile: the other is stopped (left
            to the kernel, one worker may take every connection)."""
            return stopped(sup.other(worker), path)

        async with Client(url, protocol=era, headers=close) as client:

            async def overflow(n: int, keeper: int, reader: int) -> None:
                async with on(keeper):
                    result = await client.call_tool("report", {"n": n})
                assert text_of(result.content[0]).split()[2] == str(keeper)
                link = result.content[-1]
                assert isinstance(link, ResourceLink), result.content[1:]
                async with on(reader):
                    read = await client.read_resource(link.uri)
                    back = await client.call_tool("read_back", {"uri": link.uri})
                assert text_of(read.contents[0]).startswith(f"{n} line")
                read_by, first = text_of(back.content[0]).split(" ", 1)
                assert read_by == str(reader) and first.startswith(f"{n} line")

            async with httpx.AsyncClient(headers=close) as web:

                async def approval(n: int, asker: int, taker: int) -> None:
                    env = f"env-{n}"
                    async with on(asker):
                        first = await client.call_tool("deploy", {"env": env})
                    found = re.search(r"open (http://\S+) and approve", text_of(first.content[0]))
                    assert first.is_error is True and found is not None
                    page = await web.get(found[1])  # (on either worker)
                    assert page.status_code == 200, page.text
                    fields = dict(re.findall(r'name="(\w)" value="([^"]+)"', page.text))
                    # What a browser adds to the form's POST (the page decides on no other).
                    browser = {"origin": found[1].split("/mcp-approval")[0]}
                    posted = await web.post(
                        found[1].split("?")[0],
                        data={**fields, "decision": "approve"},
                        headers=browser,
                    )
                    assert posted.status_code == 200 and "You approved it" in posted.text
                    again = await web.post(  # a second decision, on either worker: refused
                        found[1].split("?")[0],
                        data={**fields, "decision": "decline"},
                        headers=browser,
                    )
                    assert again.status_code == 404
                    async with on(taker):
                        done = text_of((await client.call_tool("deploy", {"env": env})).content[0])
                    assert done == f"deployed asked-by {asker} taken-by {taker}", done
                    used = await client.call_tool("deploy", {"env": env})  # taken once
                    assert used.is_error is True

                # Each kept or asked on one worker, and read or taken on the other, both ways.
                one, two = sup.workers()
                await overflow(0, one, two)
                await overflow(1, two, one)
                await approval(0, one, two)
                await approval(1, two, one)
        assert await sup.stop(signal.SIGTERM) == 0
