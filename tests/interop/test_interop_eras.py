"""Both protocol eras from one mcpkit endpoint, used by the clients of three other SDKs.

ONE `mcpkit run peers/mcpkit_eras_server.py --transport http --port 0` process serves, one
after the other, the official Python SDK's client (its default, which probes `server/discover`,
and pinned to each era), FastMCP 4's client (the same three) and the TypeScript SDK v2's client
(its default, the initialize handshake, and that pinned; `auto`, which probes; pinned to
2026-07-28). Each client lists tools, calls `plan` (which elicits, then samples, then returns;
the client's own handlers answer), reads a resource and gets a prompt: each must speak the era
it asked for and see the same answers, and the server must have answered in that era too.
Over stdio (`mcpkit run FILE`) the same for the official and TypeScript clients.

The peer servers of the other SDKs (`official_eras_server.py`, `fastmcp_eras_server.py`,
`ts_eras_server.mjs`) serve the same surface over stdio and HTTP; the official client using
them in both eras proves them, and mcpkit's client uses them too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from interop_harness import (
    HERE,
    PEERS,
    REPO,
    SETUP_HINT,
    peer_env,
    require_node,
    require_python_sdk,
    run_summary,
)

sys.path.insert(0, str(PEERS))

pytestmark = pytest.mark.filterwarnings(
    # The official SDK marks sampling deprecated by 2026-07-28 (SEP-2577); both eras serve it.
    "ignore::mcp.shared.exceptions.MCPDeprecationWarning"
)

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
SERVING = re.compile(r"over Streamable HTTP at (http://\S+)")
START_WAIT = 20.0  # seconds: a bound on a server's start (a cold one imports a lot)
LOG_WAIT = 5.0  # seconds: a server's stderr may be read after its client has finished
ANSWERED = re.compile(r"plan answered on (\S+)")  # what mcpkit_eras_server.py logs

# What every eras client must see of every eras server, whichever the era (the server names
# the traveller `Ada` from the elicitation, then samples the plan; see README.md).
SAME_ANSWERS = {
    "tools": ["plan"],
    "plan": {"text": "Ada: answer to Plan a day in Lisbon for Ada", "is_error": False},
    "elicitations": ["Who goes to Lisbon?"],
    "samplings": ["Plan a day in Lisbon for Ada"],
    "config": '{"debug": false}',
    "review": [["user", "Please review this code:\nx = 1"]],
}

# (client, mode, the era it must get). `auto` is the official and FastMCP clients' default;
# the TypeScript client's default is the handshake (`legacy`), and it probes only in `auto`.
HTTP_RUNS = [
    ("official", "auto", MODERN),
    ("official", "legacy", HANDSHAKE),
    ("official", MODERN, MODERN),
    ("fastmcp", "auto", MODERN),
    ("fastmcp", "legacy", HANDSHAKE),
    ("fastmcp", MODERN, MODERN),
    ("ts", "default", HANDSHAKE),
    ("ts", "legacy", HANDSHAKE),
    ("ts", "auto", MODERN),
    ("ts", MODERN, MODERN),
]
STDIO_RUNS = [
    ("official", "auto", MODERN),
    ("official", "legacy", HANDSHAKE),
    ("ts", "default", HANDSHAKE),
    ("ts", "auto", MODERN),
]


def check(summary: dict[str, Any], client: str, mode: str, era: str) -> None:
    assert (summary["client"], summary["mode"]) == (client, mode)
    assert summary["protocol_version"] == era
    answers = {k: v for k, v in summary.items() if k not in ("client", "mode", "protocol_version")}
    assert answers == SAME_ANSWERS


def require_peers() -> None:
    """Fail (never skip) without FastMCP or the TypeScript SDK v2 packages."""
    require_python_sdk()
    require_node()
    if importlib.util.find_spec("fastmcp") is None:
        pytest.fail(f"FastMCP (`fastmcp`) is missing. {SETUP_HINT}")
    for package in ("client", "server"):
        if not (HERE / "node_modules" / "@modelcontextprotocol" / package).is_dir():
            pytest.fail(
                f"tests/interop/node_modules lacks @modelcontextprotocol/{package}. {SETUP_HINT}"
            )


def eras_client(client: str) -> list[str]:
    """The command of eras peer client `client`, to which its mode and target are appended."""
    if client == "ts":
        return [require_node(), str(PEERS / "ts_eras_client.mjs")]
    return [sys.executable, str(PEERS / f"{client}_eras_client.py")]


def eras_server(server: str) -> list[str]:
    """The stdio command of eras peer server `server` (`--http` serves HTTP instead)."""
    if server == "mcpkit":
        return [sys.executable, "-m", "mcpkit", "run", str(PEERS / "mcpkit_eras_server.py")]
    if server == "ts":
        return [require_node(), str(PEERS / "ts_eras_server.mjs")]
    return [sys.executable, str(PEERS / f"{server}_eras_server.py")]


class HttpServer:
    """A server subprocess serving Streamable HTTP: its `url` once it listens, its stderr."""

    def __init__(self, argv: list[str]) -> None:
        # A session of its own, so that it is ended with whatever it started.
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=peer_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.url = ""
        self.log: list[str] = []
        self._logged = threading.Condition()
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(START_WAIT) or not self.url:
            self.stop()
            pytest.fail(f"{argv}: not serving within {START_WAIT} s\n" + "\n".join(self.log))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._logged:
                self.log.append(line.rstrip("\n"))
                self._logged.notify_all()
            if not self.url and (match := SERVING.search(line)):
                self.url = match.group(1)
                self._listening.set()
        self._listening.set()  # exited: no URL is coming

    def wait_for_log(self, done: Callable[[list[str]], bool]) -> list[str]:
        """The log once `done(log)` holds, or as it is after a bounded wait."""
        with self._logged:
            self._logged.wait_for(lambda: done(self.log), LOG_WAIT)
            return list(self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(START_WAIT)
        self._reader.join(START_WAIT)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def serve_http(argv: list[str]) -> Iterator[HttpServer]:
    server = HttpServer(argv)
    try:
        yield server
        # Every client came and went on this one process: it must still be serving.
        assert server.proc.poll() is None, "the server exited:\n" + "\n".join(server.log)
    finally:
        server.stop()


# ------------------------------------------------------------- one mcpkit endpoint, both eras


@pytest.fixture(scope="module")
def mcpkit_http() -> Iterator[HttpServer]:
    """The one `mcpkit run ... --transport http --port 0` that every HTTP client uses."""
    require_peers()
    yield from serve_http([*eras_server("mcpkit"), "--transport", "http", "--port", "0"])


@pytest.mark.parametrize(
    ("client", "mode", "era"), HTTP_RUNS, ids=[f"{c}-{m}" for c, m, _ in HTTP_RUNS]
)
def test_sdk_clients_over_http_get_the_era_they_ask_for(
    mcpkit_http: HttpServer, client: str, mode: str, era: str
) -> None:
    def answered(log: list[str]) -> list[str]:
        return [match.group(1) for line in log if (match := ANSWERED.search(line))]

    before = len(answered(mcpkit_http.log))
    summary = run_summary(
        [*eras_client(client), mode, mcpkit_http.url], f"{client} client ({mode}) vs mcpkit http"
    )
    check(summary, client, mode, era)
    # The server, too, answered `plan` in that era (once, however many rounds it took).
    log = mcpkit_http.wait_for_log(lambda log: len(answered(log)) > before)
    assert answered(log)[before:] == [era]


@pytest.mark.parametrize(
    ("client", "mode", "era"), STDIO_RUNS, ids=[f"{c}-{m}" for c, m, _ in STDIO_RUNS]
)
def test_sdk_clients_over_stdio_get_the_era_they_ask_for(client: str, mode: str, era: str) -> None:
    require_peers()
    summary = run_summary(
        [*eras_client(client), mode, *eras_server("mcpkit")],
        f"{client} client ({mode}) vs mcpkit stdio",
    )
    check(summary, client, mode, era)


# ------------------------------------------------------------- the other SDKs' eras servers

PEER_SERVERS = ["official", "fastmcp", "ts"]


@pytest.fixture(scope="module", params=PEER_SERVERS)
def peer_http(request: pytest.FixtureRequest) -> Iterator[HttpServer]:
    """Each other SDK's eras server over HTTP, shared by the tests that use it."""
    require_peers()
    yield from serve_http([*eras_server(request.param), "--http"])


async def official_summary(mode: str, target: list[str]) -> dict[str, Any]:
    """official_eras_client.py's summary, run in this process (no interpreter to start)."""
    from official_eras_client import summarize

    return await summarize([mode, *target])


@pytest.mark.parametrize(("mode", "era"), [("auto", MODERN), ("legacy", HANDSHAKE)])
async def test_official_client_uses_peer_servers_over_http(
    peer_http: HttpServer, mode: str, era: str
) -> None:
    check(await official_summary(mode, [peer_http.url]), "official", mode, era)


@pytest.mark.parametrize("server", PEER_SERVERS)
@pytest.mark.parametrize(("mode", "era"), [("auto", MODERN), ("legacy", HANDSHAKE)])
async def test_official_client_uses_peer_servers_over_stdio(
    server: str, mode: str, era: str
) -> None:
    require_peers()
    check(await official_summary(mode, eras_server(server)), "official", mode, era)


# mcpkit's client: pinned to each era, and "auto" (server/discover first), which every eras
# peer server answers with 2026-07-28.
MCPKIT_CLIENT_MODES = [(HANDSHAKE, HANDSHAKE), (MODERN, MODERN), ("auto", MODERN)]


async def mcpkit_summary(target: str | list[str], mode: str) -> dict[str, Any]:
    """What mcpkit's client sees of an eras server, in the summary's shape."""
    from mcpkit import Client

    elicitations: list[str] = []
    samplings: list[str] = []

    async def elicit(params: Any) -> dict[str, Any]:
        elicitations.append(params.message)
        return {"action": "accept", "content": {"name": "Ada"}}

    async def sample(params: Any) -> dict[str, Any]:
        text = params.messages[-1].content.text
        samplings.append(text)
        return {
            "role": "assistant",
            "content": {"type": "text", "text": f"answer to {text}"},
            "model": "interop-llm",
            "stopReason": "endTurn",
        }

    client = Client(
        target,
        protocol=mode,
        elicitation_handler=elicit,
        sampling_handler=sample,
        stderr="devnull",
    )
    # Every wait below is bounded by the async test timeout in tests/conftest.py.
    async with client:
        tools = await client.list_tools()
        plan = await client.call_tool("plan", {"city": "Lisbon"})
        config = (await client.read_resource("config://app")).contents[0]
        prompt = await client.get_prompt("review", {"code": "x = 1"})
        return {
            "client": "mcpkit",
            "mode": mode,
            "protocol_version": client.protocol_version,
            "tools": sorted(tool.name for tool in tools),
            "plan": {
                "text": getattr(plan.content[0], "text", None),
                "is_error": bool(plan.is_error),
            },
            "elicitations": elicitations,
            "samplings": samplings,
            "config": getattr(config, "text", None),
            "review": [[m.role, getattr(m.content, "text", None)] for m in prompt.messages],
        }


@pytest.mark.parametrize(("mode", "era"), MCPKIT_CLIENT_MODES)
async def test_mcpkit_client_eras_against_peer_servers_over_http(
    peer_http: HttpServer, mode: str, era: str
) -> None:
    check(await mcpkit_summary(peer_http.url, mode), "mcpkit", mode, era)


@pytest.mark.parametrize("server", PEER_SERVERS)
@pytest.mark.parametrize(("mode", "era"), MCPKIT_CLIENT_MODES)
async def test_mcpkit_client_eras_against_peer_servers_over_stdio(
    server: str, mode: str, era: str
) -> None:
    require_peers()
    check(await mcpkit_summary(eras_server(server), mode), "mcpkit", mode, era)
