"""docs/deploy.md's nginx configuration and commands, as written (ports, store and file
aside): three `mcpkit run` processes sharing a SQLite store, then a Redis one, behind nginx
round-robin per request, and the page's `mcpkit list` through nginx lists their tools; a
2026-07-28 client's calls spread over all three, a tool that asks its client twice runs its
rounds on three processes given no requestState key, a task one process made is polled
through the others, and (on Redis) a listen stream hears an update another process
announced; a 2025-11-25 session (the official
Python SDK's client in legacy mode, and mcpkit's) goes on whichever process each request
reaches; a task created through one process is fetched and cancelled through the others,
and its work stops where it ran; a call's stream cut by its tool is resumed through nginx
with every progress message once. On Redis besides: sampling and elicitation answered
through other processes than the tool's, and a resource update and a list_changed
announced by one process reach the GET stream another holds."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _ports import spare_port
from _processes import finished, starts
from _redis_server import shared_store_url
from _running import REPO, Running, mcpkit, running
from _serving import INITIALIZE, headers, messages_of
from mcp import Client as OfficialClient

from mcpkit import Client
from mcpkit.server.asking.request_state import KEY_ENV
from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

DOC = REPO / "docs" / "deploy.md"
NO_KEY = {KEY_ENV: ""}  # the processes are given no requestState key
WAIT = 30.0
SERVER = """
import asyncio
import os
from pathlib import Path

from mcpkit import Context, Server

server = Server("deployed")
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
def pid() -> int:
    return os.getpid()


@server.tool(task=True)
async def slow(marker: str) -> str:
    try:
        await asyncio.sleep(600)
    finally:
        # Where the work stopped; written whole, then named: the test polls for the name,
        # and a file it finds must not be one still being written (empty).
        Path(marker + ".part").write_text(str(os.getpid()))
        os.replace(marker + ".part", marker)
    return "never"


@server.tool(task=True)
async def quick(n: int, ctx: Context) -> str:
    return f"done {n} by {os.getpid()}" + (" as a task" if ctx.task is not None else "")


@server.tool()
async def plan(city: str, ctx: Context) -> str:
    # Ask who travels, then ask the client's LLM: each answer is a POST of its own, which
    # round robin sends to another process than the one running this.
    who = await ctx.elicit(f"Who goes to {city}?", NAME)
    idea = await ctx.sample(f"One thing to do in {city}", max_tokens=20)
    name = who.data["name"] if who.data else "?"
    return f"{name} in {city}: {getattr(idea.content, 'text', '')} (by {os.getpid()})"


@server.tool()
async def steps(ctx: Context) -> str:
    await ctx.progress(1, 3, "before the cut")
    await ctx.close_sse_stream(retry=0)  # the client resumes through nginx: elsewhere, likely
    for n in (2, 3):
        await asyncio.sleep(0.3)
        await ctx.progress(n, 3, f"step {n}")
    return f"steps by {os.getpid()}"


@server.resource("notes://today")
def today() -> str:
    return "sunny"


@server.tool()
async def update() -> str:
    await server.notify_resource_updated("notes://today")
    return "updated"


@server.tool()
def grow() -> str:
    server.add_tool(lambda: "hi", name="hello")  # this process's: announced to all
    return "grown"
"""


def sample(params: Any) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="a walk"), model="m")


def elicit(params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Ada"})


def doc_commands(front: int, backends: list[int], store: str) -> list[list[str]]:
    """docs/deploy.md's commands under its nginx block, as written but for the ports, the
    store and the file (this test's server has the tools its checks call): the three
    processes, then the client's `mcpkit list` through nginx."""
    (block,) = re.findall(
        r"The three processes, then a client through nginx:\n\n```\n(.*?)```", DOC.read_text(), re.S
    )
    lines = block.strip().splitlines()
    assert len(lines) == 4, block
    commands = []
    for line in lines:
        line = line.replace("127.0.0.1:8000", f"127.0.0.1:{front}")
        for doc_port, ours in zip((8001, 8002, 8003), backends, strict=True):
            line = line.replace(f"--port {doc_port}", f"--port {ours}")
        line = line.replace("durable.py", "deployed.py").replace("sqlite:///state.db", store)
        words = shlex.split(line)
        assert words[0] == "mcpkit", line
        commands.append(mcpkit(*words[1:]))
    return commands


def nginx_conf(folder: Path, port: int, backends: list[int]) -> Path:
    """docs/deploy.md's block with this test's ports, inside what a whole nginx.conf needs
    (the doc's block is the `http` part a site file holds)."""
    (block,) = re.findall(r"```nginx\n(.*?)```", DOC.read_text(), re.S)
    site = block.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    for doc_port, ours in zip((8001, 8002, 8003), backends, strict=True):
        site = site.replace(f"127.0.0.1:{doc_port}", f"127.0.0.1:{ours}")
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\naccess_log off;\n{temp}\n{site}\n}}\n"
    )
    return conf


@contextlib.asynccontextmanager
async def nginx(folder: Path, port: int, backends: list[int]) -> AsyncIterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).exists(), "nginx is missing: scripts/test installs Debian's nginx"
    conf = nginx_conf(folder, port, backends)
    checked = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proc = await asyncio.create_subprocess_exec(
        binary, "-c", str(conf), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(int(WAIT / 0.05)):  # bounded: until it listens
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        async with asyncio.timeout(WAIT):
            await proc.wait()


@starts(5)
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_three_processes_behind_nginx_round_robin(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "deployed.py").write_text(SERVER)
    store = shared_store_url(kind, tmp_path, request, db=3, lease=2)
    ports = [spare_port() for _ in range(3)]
    front = spare_port()
    *serve, listing = doc_commands(front, ports, store)
    async with (
        running(serve[0], tmp_path, NO_KEY) as one,
        running(serve[1], tmp_path, NO_KEY) as two,
        running(serve[2], tmp_path, NO_KEY) as three,
    ):
        processes: list[Running] = [one, two, three]
        for process in processes:
            await process.started()
        async with nginx(tmp_path, front, ports) as base:
            url = f"{base}/mcp"
            # The local test the page ends with: `mcpkit list` through nginx, as written.
            listed = await asyncio.create_subprocess_exec(
                *listing, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            out, err = await finished(listed)
            assert listed.returncode == 0, err.decode()
            assert all(name in out.decode() for name in ("pid", "plan", "steps")), out.decode()
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{base}/readyz")).json() == {"status": "ready"}
            heard: asyncio.Queue[str] = asyncio.Queue()
            async with Client(
                url,
                protocol="2026-07-28",
                sampling_handler=sample,
                elicitation_handler=elicit,
                on_notification=lambda method, params: heard.put_nowait(method),
            ) as client:
                pids = {
                    (await client.call_tool("pid")).structured_content["result"] for _ in range(6)
                }  # type: ignore[index]
                assert len(pids) == 3  # per request, round robin: each process served
                # Each round of a tool that asks goes to the next process, which opens the
                # requestState another sealed: the key they agreed on through the store.
                for city in ("Lyon", "Oslo"):
                    text = (await client.call_tool("plan", {"city": city})).text
                    assert text.startswith(f"Ada in {city}: a walk (by ")
                # A task (the tasks extension) made by one process, polled through the others.
                done = (await client.call_tool("quick", {"n": 4})).text
                assert done.startswith("done 4 by ") and done.endswith(" as a task")
                if kind == "redis":  # a listen stream held by one process hears the others
                    await client.subscribe("notes://today")
                    await client.call_tool("update")
                    assert await asyncio.wait_for(heard.get(), WAIT) == (
                        "notifications/resources/updated"
                    )

            async with OfficialClient(url, mode="legacy") as official:
                assert official.protocol_version == "2025-11-25"
                names = sorted(t.name for t in (await official.list_tools()).tools)
                assert names == ["grow", "pid", "plan", "quick", "slow", "steps", "update"]
                served = set()
                for _ in range(6):
                    result = await official.call_tool("pid", {})
                    served.add(result.structured_content["result"])  # type: ignore[index]
                assert len(served) == 3  # one session, three processes

            async with Client(url, protocol="2025-11-25") as client:
                done = await client.call_tool_as_task("quick", {"n": 3})
                assert (await done.wait()).status == "completed"
                assert (await client.task_result(done.id)).text.startswith("done 3 by ")
                marker = tmp_path / "stopped"
                cut = await client.call_tool_as_task("slow", {"marker": str(marker)})
                for _ in range(3):  # tasks/get reaches each process in turn
                    assert (await client.get_task(cut.id)).status == "working"
                assert (await client.cancel_task(cut.id)).status == "cancelled"
                for _ in range(int(WAIT / 0.1)):  # bounded: within a quarter of the lease
                    if marker.exists():
                        break
                    await asyncio.sleep(0.1)
                assert int(marker.read_text()) in {p.proc.pid for p in processes}
                assert (await client.get_task(cut.id)).status == "cancelled"

            news: asyncio.Queue[str] = asyncio.Queue()
            async with Client(
                url,
                protocol="2025-11-25",
                sampling_handler=sample,
                elicitation_handler=elicit,
                on_notification=lambda method, params: news.put_nowait(method),
            ) as client:
                # A call's stream cut by its tool, resumed through nginx (Last-Event-ID):
                # what was sent before the cut once, then the rest, from whichever process.
                said: list[str | None] = []
                result = await client.call_tool(
                    "steps", progress=lambda done, total, message: said.append(message)
                )
                assert result.text.startswith("steps by ")
                assert said == ["before the cut", "step 2", "step 3"]
                if kind == "redis":  # what the broker carries between processes
                    for city in ("Lyon", "Oslo", "Rome"):  # answers reach the asking process
                        text = (await client.call_tool("plan", {"city": city})).text
                        assert text.startswith(f"Ada in {city}: a walk (by ")
                    await client.subscribe("notes://today")  # to one process
                    await client.call_tool("update")  # announced by another
                    updated = await asyncio.wait_for(news.get(), WAIT)  # on the GET stream
                    assert updated == "notifications/resources/updated"
                    await client.call_tool("grow")
                    changed = await asyncio.wait_for(news.get(), WAIT)
                    assert changed == "notifications/tools/list_changed"


WHOAMI = """
from mcpkit import Context, Server

server = Server("deployed")


@server.tool()
def whoami(ctx: Context) -> str:
    info = ctx.request_info
    return "?" if info is None or info.client is None else info.client[0]
"""


@starts(2)
async def test_behind_nginx_each_client_has_its_own_address(tmp_path: Path) -> None:
    """The page's nginx block and run command (its --forwarded-allow-ips): a process counts
    each client by its own address, not nginx's, whatever the client puts in X-Forwarded-For
    itself (what every per-address limit reads is what a tool's request_info says)."""
    (tmp_path / "deployed.py").write_text(WHOAMI)
    port, front = spare_port(), spare_port()
    serve, *_ = doc_commands(front, [port] * 3, "memory://")
    assert "--forwarded-allow-ips" in serve
    async with running(serve, tmp_path) as process:
        await process.started()
        async with nginx(tmp_path, front, [port] * 3) as base:  # (one process, thrice)
            seen = []
            for local in ("127.0.0.2", "127.0.0.3"):  # other addresses of the loopback
                transport = httpx.AsyncHTTPTransport(local_address=local)
                async with httpx.AsyncClient(transport=transport, timeout=WAIT) as http:
                    seen.append(await _whoami(http, f"{base}/mcp", "203.0.113.9, 127.0.0.1"))
            assert seen == ["127.0.0.2", "127.0.0.3"]


async def _whoami(http: httpx.AsyncClient, url: str, forwarded: str) -> str:
    """A session's call of `whoami`, each request with `forwarded` as X-Forwarded-For."""
    spoofed = {"x-forwarded-for": forwarded}
    opened = await http.post(url, json=INITIALIZE, headers=headers(**spoofed))
    assert opened.status_code == 200, opened.text
    sid = opened.headers["mcp-session-id"]
    ready = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await http.post(url, json=ready, headers=headers(sid, **spoofed))).status_code == 202
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}}
    answer = await http.post(url, json=call, headers=headers(sid, **spoofed))
    assert answer.status_code == 200, answer.text
    (message,) = messages_of(answer)
    return str(message["result"]["content"][0]["text"])
