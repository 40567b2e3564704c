"""A connect whose server wants a token: the time a person takes to log in does not count
against `init_timeout` (the `server/discover` probe, or `initialize`, measures the server), and
an authorization that fails fails the connect instead of passing for a legacy server
(client/discover.py, runtime/authorizing.py; docs/client.md "Protocol revisions"), over the
legacy HTTP+SSE transport too (transports/legacy_sse_client.py).

Each runs on `mcpkit.testing`'s virtual clock, with every server in memory: the clock moves
only when every task waits for a timer, so a login held "ten minutes" takes no real time, and
nothing the servers do in between can be overtaken by a timer however loaded the machine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import msgspec
import pytest
from _client_world import ISSUER, MCP, World

from mcpkit import Client, ConnectionClosed
from mcpkit.auth.client import AuthorizationResponse, HeadlessRedirect, OAuth
from mcpkit.runtime.channel import MessageChannel
from mcpkit.testing import run_with_fake_clock
from mcpkit.transports.http_client.transport import StreamableHttpTransport
from mcpkit.transports.legacy_sse_client import open_legacy_sse_channel

INIT_TIMEOUT = 30.0  # Client's default
LOGIN = 600.0  # virtual seconds a person takes at the login page
WAIT = 3600.0  # bounds each test (virtual: a stuck one fails at once instead of hanging)


class FakeMcp:
    """`World`'s authorization server beside a small MCP server behind its token check:
    `server/discover` (2026-07-28) and `initialize` (2025-11-25) answered once a token passes,
    or, with `discover_stalls`, a discover held unanswered. Records each JSON-RPC method."""

    def __init__(self, world: World, *, discover_stalls: bool = False) -> None:
        self.world = world
        self.discover_stalls = discover_stalls
        self.methods: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url.copy_with(query=None)) != MCP:
            return self.world(request)
        if request.method != "POST":
            return httpx.Response(405)  # no GET stream, no DELETE
        message: dict[str, Any] = msgspec.json.decode(request.content)
        self.methods.append(message["method"])
        refusal = self.world.check_mcp(request)
        if refusal is not None:
            return refusal
        if "id" not in message:
            return httpx.Response(202)
        if message["method"] == "server/discover":
            if self.discover_stalls:
                await asyncio.Event().wait()  # cancelled when the client gives up
            result: dict[str, Any] = {
                "resultType": "complete",
                "supportedVersions": ["2026-07-28"],
                "capabilities": {},
                "ttlMs": 0,
                "cacheScope": "public",
            }
        elif message["method"] == "initialize":
            result = {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "serverInfo": {"name": "fake", "version": "1"},
            }
        else:
            return httpx.Response(404)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": message["id"], "result": result})


class HeldLogin:
    """A person at the login page: the flow waits here until the test lets it go on, then
    approves as `HeadlessRedirect` does."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._approve = HeadlessRedirect(http_client=http)
        self.reached = asyncio.Event()
        self.go_on = asyncio.Event()
        self.logins = 0
        self.cut_short = False

    async def redirect_uri(self) -> str:
        return await self._approve.redirect_uri()

    async def authorize(self, authorization_url: str) -> AuthorizationResponse:
        self.logins += 1
        self.reached.set()
        try:
            await self.go_on.wait()
        except asyncio.CancelledError:
            self.cut_short = True
            raise
        return await self._approve.authorize(authorization_url)


def client_for(server: FakeMcp, auth: OAuth, **options: Any) -> Client:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return Client(StreamableHttpTransport(MCP, http_client=http, auth=auth), **options)


async def held_connect(protocol: str) -> tuple[FakeMcp, HeldLogin, Client]:
    """Connect with a login held for LOGIN seconds, far past `init_timeout`."""
    server = FakeMcp(World())
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    login = HeldLogin(http)
    client = client_for(
        server, OAuth(login, http_client=http), init_timeout=INIT_TIMEOUT, protocol=protocol
    )
    connecting = asyncio.create_task(client.connect())
    async with asyncio.timeout(WAIT):
        await login.reached.wait()
        await asyncio.sleep(LOGIN)
        login.go_on.set()
        await connecting
    return server, login, client


def test_a_login_longer_than_init_timeout_does_not_cut_the_probe_short() -> None:
    async def main() -> None:
        server, login, client = await held_connect("auto")
        try:
            assert client.protocol_version == "2026-07-28"
            assert (login.logins, login.cut_short) == (1, False)
            assert server.methods == ["server/discover", "server/discover"]  # 401, token
        finally:
            await client.aclose()

    run_with_fake_clock(main())


def test_a_login_longer_than_init_timeout_does_not_cut_initialize_short() -> None:
    async def main() -> None:
        server, login, client = await held_connect("2025-11-25")
        try:
            assert client.protocol_version == "2025-11-25"
            assert (login.logins, login.cut_short) == (1, False)
            assert server.methods[:2] == ["initialize", "initialize"]
        finally:
            await client.aclose()

    run_with_fake_clock(main())


def test_after_the_login_the_probe_still_times_out_on_a_silent_server() -> None:
    # The clock starts again once the token is there: a server that then says nothing is
    # taken for a legacy one after init_timeout, as without authorization.
    async def main() -> None:
        server = FakeMcp(World(), discover_stalls=True)
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        auth = OAuth(HeadlessRedirect(http_client=http), http_client=http)
        async with asyncio.timeout(WAIT), client_for(server, auth) as client:
            assert client.protocol_version == "2025-11-25"
        assert server.methods[:2] == ["server/discover", "server/discover"]  # 401, silence
        assert "initialize" in server.methods
        assert len(server.world.requests_to(f"{ISSUER}/authorize")) == 1

    run_with_fake_clock(main())


@pytest.mark.parametrize("protocol", ["auto", "2026-07-28"])
async def test_a_failed_authorization_fails_the_connect_without_falling_back(
    protocol: str,
) -> None:
    server = FakeMcp(World(forged_state="not-ours"))
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    auth = OAuth(HeadlessRedirect(http_client=http), http_client=http)
    with pytest.raises(ConnectionClosed, match="invalid_state"):
        async with asyncio.timeout(10), client_for(server, auth, protocol=protocol):
            pass
    assert server.methods == ["server/discover"]  # no initialize after it
    assert len(server.world.requests_to(f"{ISSUER}/authorize")) == 1


LEGACY = "https://mcp.example.com/sse"
MESSAGES = "https://mcp.example.com/messages"


class FakeLegacy:
    """`World`'s authorization server beside a legacy HTTP+SSE server (2024-11-05) behind its
    token check: the GET at LEGACY opens the event stream (with `open_stream`, without a token),
    which names MESSAGES, and each request POSTed there is answered on the stream. Records
    each JSON-RPC method."""

    def __init__(self, world: World, *, open_stream: bool = False) -> None:
        self.world = world
        self.open_stream = open_stream
        self.methods: list[str] = []
        self._events: asyncio.Queue[bytes] = asyncio.Queue()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if url not in (LEGACY, MESSAGES):
            return self.world(request)
        refusal = self.world.check_mcp(request)
        if refusal is not None and not (url == LEGACY and self.open_stream):
            return refusal
        if url == LEGACY:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, content=self._stream())
        message: dict[str, Any] = msgspec.json.decode(request.content)
        self.methods.append(message["method"])
        if message["method"] == "initialize":
            result = {
                "protocolVersion": "2024-11-05",
                "capabilities": {},
                "serverInfo": {"name": "fake", "version": "1"},
            }
            answer = {"jsonrpc": "2.0", "id": message["id"], "result": result}
            await self._events.put(b"event: message\ndata: " + msgspec.json.encode(answer))
        return httpx.Response(202)

    async def _stream(self) -> AsyncIterator[bytes]:
        yield b"event: endpoint\ndata: /messages?session=1\n\n"
        while True:
            yield await self._events.get() + b"\n\n"


def legacy_opener(
    http: httpx.AsyncClient, auth: OAuth
) -> Callable[[], Awaitable[tuple[MessageChannel, Callable[[], Awaitable[None]]]]]:
    """A `Client` target opening the legacy channel itself, as the inspector does."""

    async def opener() -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
        channel = await open_legacy_sse_channel(
            LEGACY, http_client=http, headers={}, max_message_size=1 << 20, auth=auth
        )
        return channel, channel.aclose

    return opener


@pytest.mark.parametrize("opened", ["by url", "by the caller"])
def test_a_login_longer_than_init_timeout_does_not_cut_the_legacy_sse_connect_short(
    opened: str,
) -> None:
    # By URL the stream's GET carries the login, which the wait for the endpoint event does
    # not count; opened by the caller with an open stream, initialize's POST carries it
    # (pinned to the legacy era, as no probe goes first).
    async def main() -> None:
        server = FakeLegacy(World(mcp=LEGACY), open_stream=opened == "by the caller")
        http = httpx.AsyncClient(transport=httpx.MockTransport(server))
        login = HeldLogin(http)
        auth = OAuth(login, http_client=http)
        target: Any = StreamableHttpTransport(LEGACY, http_client=http, auth=auth)
        protocol = "auto"
        if opened == "by the caller":
            target, protocol = legacy_opener(http, auth), "2025-11-25"
        client = Client(target, init_timeout=INIT_TIMEOUT, protocol=protocol)
        connecting = asyncio.create_task(client.connect())
        async with asyncio.timeout(WAIT):
            await login.reached.wait()
            await asyncio.sleep(LOGIN)
            login.go_on.set()
            await connecting
        try:
            assert client.protocol_version == "2024-11-05"
            assert (login.logins, login.cut_short) == (1, False)
            assert server.methods[:2] == ["initialize", "notifications/initialized"]
        finally:
            await client.aclose()

    run_with_fake_clock(main())
