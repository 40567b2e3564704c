"""`Connection.aclose` waits for its reader to stop, and keeps its caller's cancellation."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.protocol.session import Session
from mcpkit.runtime.connection import Connection

WAIT = 5.0  # seconds: a bound on hangs, never a measurement


class SlowToStopChannel:
    """A channel whose `receive`, cancelled, cleans up for `cleanup` seconds first."""

    def __init__(self, cleanup: float) -> None:
        self.cleanup = cleanup
        self.receiving = asyncio.Event()
        self.cleaned = False

    async def receive(self) -> bytes:
        self.receiving.set()
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            await asyncio.sleep(self.cleanup)
            self.cleaned = True
            raise
        raise AssertionError("never cancelled")

    async def send(self, data: bytes) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def started(channel: SlowToStopChannel) -> Connection:
    return (await started_with_reader(channel))[0]


async def started_with_reader(channel: SlowToStopChannel) -> tuple[Connection, asyncio.Task[None]]:
    conn = Connection(
        Session(), channel, on_request=lambda peer, ev: asyncio.sleep(0), on_event=lambda ev: None
    )
    reader = conn.start()
    await channel.receiving.wait()
    return conn, reader


async def test_a_caller_timed_out_while_the_reader_stops_sees_its_timeout() -> None:
    # The caller's asyncio.timeout expires while aclose waits for the reader: it used to be
    # swallowed with the reader's own cancellation, so the timeout never fired.
    channel = SlowToStopChannel(cleanup=0.2)
    conn = await started(channel)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await conn.aclose()
    assert channel.cleaned  # the reader still stopped before the cancellation was raised
    assert conn.closed


async def test_a_caller_cancelled_by_its_task_group_while_the_reader_stops_is_cancelled() -> None:
    channel = SlowToStopChannel(cleanup=0.2)
    conn = await started(channel)
    returned: list[str] = []

    async def close() -> None:
        await conn.aclose()
        returned.append("aclose returned")  # (it used to: the cancellation was dropped)

    async def fail_soon() -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("a sibling failed")

    with pytest.raises(ExceptionGroup) as caught:
        async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
            group.create_task(close())
            group.create_task(fail_soon())
    assert caught.group_contains(RuntimeError, match="a sibling failed")
    assert returned == [] and channel.cleaned


async def test_aclose_returns_once_the_reader_stopped() -> None:
    channel = SlowToStopChannel(cleanup=0.05)
    conn = await started(channel)
    async with asyncio.timeout(WAIT):
        await conn.aclose()
    assert channel.cleaned and conn.closed


class SlowToCloseChannel(SlowToStopChannel):
    """A channel whose `aclose` takes long and leaves `receive` waiting."""

    async def aclose(self) -> None:
        await asyncio.sleep(WAIT)


async def test_a_caller_cancelled_while_the_channel_closes_still_stops_the_reader() -> None:
    # The reader used to be cancelled only after the channel's close returned: a caller that
    # gave up meanwhile left it waiting on the channel for good.
    channel = SlowToCloseChannel(cleanup=0.01)
    conn, reader = await started_with_reader(channel)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await conn.aclose()
    assert reader.done() and channel.cleaned
