"""Closing what was opened for a target (`mcpkit.transports.connect`): the transport's release
runs whatever the connection's close raised, and an in-process server's release, cancelled,
still waits (bounded) for the server's cleanup, then raises the cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import cast

import pytest

from mcpkit import Client, Server
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.transports.connect import close_opened, open_target
from mcpkit.types import CreateMessageRequestParams, CreateMessageResult

WAIT = 5.0  # seconds; a bound on hangs, not a performance assertion


class Closing:
    """A connection whose close fails, or hangs until cancelled."""

    def __init__(self, failure: BaseException | None) -> None:
        self.failure = failure
        self.closing = asyncio.Event()

    async def aclose(self) -> None:
        self.closing.set()
        if self.failure is not None:
            raise self.failure
        await asyncio.Event().wait()


class Release:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def test_the_release_runs_when_the_connection_fails_to_close() -> None:
    release = Release()
    connection = cast(Connection, Closing(RuntimeError("the close failed")))
    with pytest.raises(RuntimeError, match="the close failed"):
        await close_opened(connection, release)
    assert release.calls == 1


async def test_the_release_runs_when_the_close_is_cancelled() -> None:
    release, closing = Release(), Closing(None)
    task = asyncio.ensure_future(close_opened(cast(Connection, closing), release))
    async with asyncio.timeout(WAIT):
        await closing.closing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert release.calls == 1


class SlowToEnd:
    """An in-process server that serves until cancelled, then cleans up for a while (as a
    proxy kills and reaps its stdio upstreams)."""

    def __init__(self) -> None:
        self.serving = asyncio.Event()
        self.cleaned = False

    async def serve(self, channel: MessageChannel) -> None:
        self.serving.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)
            self.cleaned = True
            raise


async def test_a_release_cancelled_waits_for_the_servers_cleanup_then_is_cancelled() -> None:
    server = SlowToEnd()
    _, release = await open_target(server)
    async with asyncio.timeout(WAIT):
        await server.serving.wait()
    releasing = asyncio.ensure_future(release())
    await asyncio.sleep(0.01)  # waiting for the server to end
    assert not releasing.done()
    releasing.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(WAIT):
            await releasing
    assert server.cleaned


async def test_a_release_under_a_timeout_ends_with_the_timeout() -> None:
    """A caller's `asyncio.timeout` is told of the cancellation it made (a release that kept
    it would leave the timeout unexpired, the caller waiting on)."""
    server = SlowToEnd()
    _, release = await open_target(server)
    async with asyncio.timeout(WAIT):
        await server.serving.wait()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await release()
    assert server.cleaned


async def test_a_client_cancelled_while_its_server_ends_still_closes_the_rest() -> None:
    """Cancelled while the in-process server's end is awaited (a slow lifespan exit), the
    client still closes what it holds after the transport (its task receiver)."""

    @contextlib.asynccontextmanager
    async def slow_exit(server: Server) -> AsyncGenerator[None, None]:
        yield
        await asyncio.Event().wait()  # until the client's release cancels it

    async def sampling(params: CreateMessageRequestParams) -> CreateMessageResult:
        raise AssertionError("not asked")

    client = Client(Server("slow", lifespan=slow_exit), sampling_handler=sampling, tasks=True)
    await client.__aenter__()
    receiver = client._connector.task_receiver  # pyright: ignore[reportPrivateUsage]
    release = client._connector.release  # pyright: ignore[reportPrivateUsage]
    assert receiver is not None and release is not None
    releasing = asyncio.Event()
    closed: list[bool] = []

    async def watched_release() -> None:
        releasing.set()
        await release()

    async def closing_receiver() -> None:
        closed.append(True)

    client._connector.release = watched_release  # pyright: ignore[reportPrivateUsage]
    receiver.aclose = closing_receiver  # type: ignore[method-assign]
    closing = asyncio.ensure_future(client.aclose())
    async with asyncio.timeout(WAIT):
        await releasing.wait()  # (set as the release starts: it waits for the server now)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert closed == [True]
