"""A server and a client end in one process: `connected` (a real Client) and `raw_session`
(raw JSON-RPC, for testing a server's answers to bad or unusual input)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.errors import ConnectionClosed
from mcpkit.transports.memory import MemoryChannel, memory_channel_pair

if TYPE_CHECKING:
    from mcpkit.client.client import Client
    from mcpkit.server.server import Server

__all__ = ["RawPeer", "connected", "raw_session"]

_PROTOCOL_VERSION = "2025-11-25"


@contextlib.asynccontextmanager
async def connected(server: Server, **client_options: Any) -> AsyncGenerator[Client, None]:
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

    async def initialize(
        self, protocol_version: str = _PROTOCOL_VERSION, capabilities: dict[str, Any] | None = None
    ) -> Any:
        """Run the handshake; returns the initialize result."""
        reply = await self.request(
            "initialize",
            {
                "protocolVersion": protocol_version,
                "capabilities": capabilities or {},
                "clientInfo": {"name": "mcpkit-raw-peer", "version": "0"},
            },
        )
        if "result" not in reply:
            raise AssertionError(f"initialize failed: {reply}")
        await self.notify("notifications/initialized")
        return reply["result"]


def _is_response_to(message: Any, rid: Any) -> bool:
    return (
        isinstance(message, dict)
        and "method" not in message
        and cast("dict[str, Any]", message).get("id") == rid
    )


@contextlib.asynccontextmanager
async def raw_session(
    server: Server,
    *,
    initialize: bool = True,
    protocol_version: str = _PROTOCOL_VERSION,
    capabilities: dict[str, Any] | None = None,
    timeout: float = 5.0,
) -> AsyncGenerator[RawPeer, None]:
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
