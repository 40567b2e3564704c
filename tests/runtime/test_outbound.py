"""`runtime.outbound.Outbound` on its own: the writer and those who wait for it."""

from __future__ import annotations

import asyncio

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
