"""`runtime.outbound.Outbound` on its own: the writer and those who wait for it."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.outbox import Outgoing
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.channel import ChannelExtras
from mcpkit.runtime.outbound import Outbound


class SlowChannel:
    """A channel whose `send` waits for `go`, so a writer stays busy as long as a test wants."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.sent: list[bytes] = []

    async def receive(self) -> bytes:
        raise ConnectionClosed("no input")

    async def send(self, data: bytes) -> None:
        await self.go.wait()
        self.sent.append(data)

    async def aclose(self) -> None:
        pass


async def test_every_waiter_for_an_idle_writer_wakes_when_it_empties() -> None:
    """Two callers of `wait_idle` at once (a client's connect and a second flush, say) both
    return when the queue empties, not the second alone while the first waits out its
    timeout (it used to: the second replaced the one future the first awaited)."""
    channel = SlowChannel()
    out = Outbound(ChannelExtras(channel), 1 << 20, lambda exc: None, BackgroundTasks())
    out.enqueue([Outgoing(b"one"), Outgoing(b"two")], answering=False)
    out.start_writer()
    loop = asyncio.get_running_loop()
    start = loop.time()
    first = asyncio.create_task(out.wait_idle(30))
    second = asyncio.create_task(out.wait_idle(30))
    await asyncio.sleep(0)
    assert not first.done() and not second.done()  # the writer is still at its first send
    channel.go.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert loop.time() - start < 5 and channel.sent == [b"one", b"two"]
    assert not out.writing


class FailingChannel(SlowChannel):
    """A channel whose `send` fails in another way than closing (a store behind it that is
    down used to: issue 39)."""

    async def send(self, data: bytes) -> None:
        raise RuntimeError("the stream's store failed")


async def test_a_writer_task_that_fails_is_logged_once_never_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    unretrieved: list[object] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unretrieved.append(context.get("message")))
    try:
        background = BackgroundTasks()
        out = Outbound(ChannelExtras(FailingChannel()), 1 << 20, lambda exc: None, background)
        out.enqueue([Outgoing(b"one")], answering=False)
        with caplog.at_level(logging.ERROR, logger="mcpkit.runtime"):
            out.start_writer()
            await asyncio.wait_for(out.wait_idle(5), 5)
            for _ in range(100):  # bounded: the done callback runs within a few loop turns
                if not len(background):
                    break
                await asyncio.sleep(0)
        del out, background
        gc.collect()  # a task nobody retrieved says so when it is collected
    finally:
        loop.set_exception_handler(previous)
    assert unretrieved == []
    (record,) = [r for r in caplog.records if r.name == "mcpkit.runtime"]
    assert "failed" in record.getMessage() and record.exc_info is not None
    assert "the stream's store failed" in str(record.exc_info[1])
