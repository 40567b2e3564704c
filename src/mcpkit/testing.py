"""Helpers for testing MCP servers and clients: the only module that holds both ends.

```python
from mcpkit.testing import connected, raw_session

async with connected(server) as client:          # a real Client over the in-memory pair
    assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {...}

async with raw_session(server) as peer:          # speak raw JSON-RPC to a server
    reply = await peer.request("tools/list")
    await peer.send_bytes(b"{not json")
    assert (await peer.receive())["error"]["code"] == -32700

run_with_fake_clock(test_a_timeout())            # timers fire at once, in virtual time
```
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import selectors
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from mcpkit.errors import ConnectionClosed
from mcpkit.runtime.workers import default_pool
from mcpkit.transports.memory import MemoryChannel, memory_channel_pair

if TYPE_CHECKING:
    from mcpkit.client.client import Client
    from mcpkit.server.server import Server

__all__ = ["FakeClockLoop", "RawPeer", "connected", "raw_session", "run_with_fake_clock"]

T = TypeVar("T")

_PROTOCOL_VERSION = "2025-11-25"


@contextlib.asynccontextmanager
async def connected(server: Server, **client_options: Any) -> AsyncIterator[Client]:
    """A connected `Client` for `server` over the in-memory pair (options go to `Client`)."""
    from mcpkit.client.client import Client

    async with Client(server, **client_options) as client:
        yield client


class RawPeer:
    """A client end that sends and receives raw JSON-RPC, for testing a server's answers to
    bad or unusual input. Every wait is bounded by `timeout` seconds."""

    def __init__(self, channel: MemoryChannel, timeout: float = 5.0) -> None:
        self.channel = channel
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._stash: list[dict[str, Any]] = []

    async def send_bytes(self, data: bytes) -> None:
        await self.channel.send(data)

    async def send(self, message: Any) -> None:
        await self.channel.send(msgspec.json.encode(message))

    async def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)

    async def receive(self) -> Any:
        """The next message from the server (decoded), or TimeoutError."""
        if self._stash:
            return self._stash.pop(0)
        data = await asyncio.wait_for(self.channel.receive(), self.timeout)
        return msgspec.json.decode(data)

    async def request(self, method: str, params: Any = None, *, id: Any = None) -> Any:
        """Send a request and return the whole response object (result or error); messages
        that arrive before it (notifications, server requests) are kept for `receive`."""
        rid = next(self._ids) if id is None else id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.response_to(rid)

    async def response_to(self, rid: Any) -> Any:
        """Wait for the response with id `rid`, keeping other messages for `receive`."""
        for i, kept in enumerate(self._stash):
            if _is_response_to(kept, rid):
                return self._stash.pop(i)
        async with asyncio.timeout(self.timeout):
            while True:
                data = await self.channel.receive()
                message = msgspec.json.decode(data)
                if _is_response_to(message, rid):
                    return message
                self._stash.append(message)

    async def initialize(self, protocol_version: str = _PROTOCOL_VERSION,
                         capabilities: dict[str, Any] | None = None) -> Any:
        """Run the handshake; returns the initialize result."""
        reply = await self.request("initialize", {
            "protocolVersion": protocol_version, "capabilities": capabilities or {},
            "clientInfo": {"name": "mcpkit-raw-peer", "version": "0"}})
        if "result" not in reply:
            raise AssertionError(f"initialize failed: {reply}")
        await self.notify("notifications/initialized")
        return reply["result"]


def _is_response_to(message: Any, rid: Any) -> bool:
    return (isinstance(message, dict) and "method" not in message
            and message.get("id") == rid)


@contextlib.asynccontextmanager
async def raw_session(server: Server, *, initialize: bool = True,
                      protocol_version: str = _PROTOCOL_VERSION,
                      capabilities: dict[str, Any] | None = None,
                      timeout: float = 5.0) -> AsyncIterator[RawPeer]:
    """Serve one session of `server` to a `RawPeer` (initialized first unless told not to)."""
    client_end, server_end = memory_channel_pair()
    task = asyncio.get_running_loop().create_task(server.serve(server_end))
    peer = RawPeer(client_end, timeout)
    try:
        if initialize:
            await peer.initialize(protocol_version, capabilities)
        yield peer
    finally:
        await client_end.aclose()
        try:
            await asyncio.wait_for(task, timeout)
        except (TimeoutError, ConnectionClosed):
            task.cancel()


# ------------------------------------------------------------------- fake clock


class _JumpingSelector(selectors.BaseSelector):
    """Wraps a real selector; when the loop would sleep until its next timer and nothing
    happens for `idle` seconds of real time, moves the loop's clock to that timer instead."""

    def __init__(self, idle: float) -> None:
        self._real = selectors.DefaultSelector()
        self.idle = idle
        self.loop: FakeClockLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None
               ) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            return self._real.select(0)
        if default_pool().busy:  # a sync handler is running: its result comes for real
            return self._real.select(timeout)
        events = self._real.select(self.idle if timeout is None else min(self.idle, timeout))
        if events or timeout is None:
            return events or self._real.select(None)
        assert self.loop is not None
        self.loop.advance(timeout)
        return []


class FakeClockLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock: whenever every task waits for a timer (a sleep, a
    request timeout, a deadline) and no I/O arrives for `idle` seconds of real time, the
    clock jumps to the next timer. Tests of timeouts then take no real time and behave the
    same on a slow machine. While a sync handler runs in mcpkit's worker pool the loop waits
    for it for real. Meant for in-process tests (`Client(server)`); with subprocesses, raise
    `idle` above their response time."""

    def __init__(self, *, start: float = 0.0, idle: float = 0.005) -> None:
        selector = _JumpingSelector(idle)
        super().__init__(selector)
        selector.loop = self
        self._now = start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (timers that come due fire on the next pass)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds


def run_with_fake_clock(main: Coroutine[Any, Any, T], *, start: float = 0.0,
                        idle: float = 0.005) -> T:
    """`asyncio.run(main)` on a `FakeClockLoop`."""
    with asyncio.Runner(loop_factory=lambda: FakeClockLoop(start=start, idle=idle)) as runner:
        return runner.run(main)
