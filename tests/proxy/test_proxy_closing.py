"""A proxy that stops serving closes every upstream session to its end: all at once, one that
fails or is cancelled stopping none of the others, the first error raised after
(`mcpkit.runtime.background.close_all`), so no upstream process or connection is left open."""

from __future__ import annotations

import asyncio
import sys
from typing import cast

import pytest

from mcpkit.proxy import ProxyServer
from mcpkit.proxy.upstream_link import Link
from mcpkit.runtime.connection import Connection
from mcpkit.server.session import ServerSessionHandle

WAIT = 5.0  # seconds; a bound on hangs, not a performance assertion


class FakeLink:
    """An upstream session whose close fails, ends at once, or waits until cancelled and then
    cleans up (a stdio upstream killed, then reaped); `ended` has each close that ran to its
    end."""

    def __init__(self, ended: list[str], name: str, how: str) -> None:
        self.ended = ended
        self.name = name
        self.how = how
        self.closing = asyncio.Event()

    async def aclose(self) -> None:
        self.closing.set()
        if self.how == "fails":
            self.ended.append(self.name)
            raise RuntimeError(f"{self.name} failed to close")
        if self.how == "waits":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await asyncio.sleep(0.01)  # the process reaped
                self.ended.append(self.name)
                raise
        self.ended.append(self.name)


def a_proxy(*links: FakeLink) -> ProxyServer:
    """A proxy (never started) whose mounted sessions hold `links` upstream."""
    proxy = ProxyServer([sys.executable, "-c", "pass"])
    for link in links:
        handle = cast(ServerSessionHandle, object())
        proxy.client_links.links[handle] = cast(Link, link)
    return proxy


async def test_a_session_link_that_fails_to_close_stops_none_of_the_others() -> None:
    ended: list[str] = []
    proxy = a_proxy(FakeLink(ended, "a", "fails"), FakeLink(ended, "b", "ends"))
    with pytest.raises(RuntimeError, match="a failed"):
        await proxy.client_links.aclose()
    assert sorted(ended) == ["a", "b"]
    assert proxy.client_links.links == {}


async def test_client_links_closed_when_cancelled_are_each_closed_to_their_end() -> None:
    ended: list[str] = []
    first = FakeLink(ended, "a", "waits")
    proxy = a_proxy(first, FakeLink(ended, "b", "waits"))
    closing = asyncio.ensure_future(proxy.client_links.aclose())
    async with asyncio.timeout(WAIT):
        await first.closing.wait()
    await asyncio.sleep(0)
    closing.cancel()  # the server's shutdown cancelled, say
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(WAIT):
            await closing
    assert sorted(ended) == ["a", "b"]


@pytest.mark.parametrize("how", ["fails", "cancelled"])
async def test_the_pool_is_closed_whatever_the_client_links_close_does(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = a_proxy()
    closed: list[str] = []

    async def close_sessions() -> None:
        closed.append("sessions")
        if how == "fails":
            raise RuntimeError("the session links failed to close")
        raise asyncio.CancelledError

    async def close_pool() -> None:
        closed.append("pool")

    monkeypatch.setattr(proxy.client_links, "aclose", close_sessions)
    monkeypatch.setattr(proxy.pool, "aclose", close_pool)
    with pytest.raises((RuntimeError, asyncio.CancelledError)):
        async with proxy.running():
            pass
    assert sorted(closed) == ["pool", "sessions"]


async def test_a_link_whose_close_fails_still_stops_its_tasks() -> None:
    """The release and the link's own tasks end whatever the connection's close raised."""
    proxy = a_proxy()
    link = Link(proxy.link_settings, proxy.client_links)
    released: list[bool] = []

    async def release() -> None:
        released.append(True)

    link.connection = cast(Connection, FakeLink([], "connection", "fails"))
    link._release = release  # pyright: ignore[reportPrivateUsage]
    running = link.tasks.spawn(asyncio.Event().wait())
    with pytest.raises(RuntimeError, match="connection failed"):
        await link.aclose()
    assert released == [True]
    async with asyncio.timeout(WAIT):
        await asyncio.wait((running,))
    assert running.cancelled()


def _slow_link(proxy: ProxyServer, gate: asyncio.Event, released: list[str]) -> Link:
    """A real link whose release (a stdio upstream stopped and reaped) waits for `gate`."""
    link = Link(proxy.link_settings, proxy.client_links)

    async def release() -> None:
        await gate.wait()
        released.append("reaped")

    link._release = release  # pyright: ignore[reportPrivateUsage]
    return link


async def test_a_second_close_of_a_link_waits_for_the_first_to_end() -> None:
    gate, released = asyncio.Event(), list[str]()
    link = _slow_link(a_proxy(), gate, released)
    first = asyncio.ensure_future(link.aclose())
    await asyncio.sleep(0)  # the first close waits in the release
    second = asyncio.ensure_future(link.aclose())
    await asyncio.sleep(0.01)
    assert not second.done()  # before, it found nothing to close and returned at once
    gate.set()
    async with asyncio.timeout(WAIT):
        await asyncio.wait((first, second))
    assert released == ["reaped"] and second.exception() is None


async def test_the_proxys_close_waits_for_a_session_link_dropped_meanwhile() -> None:
    """A client session's end drops its upstream session in a task of its own
    (`ProxyServer.session_ended`); the proxy stopping then must not return before that
    close has reaped its process (a 2025-11-25 config test saw one left running)."""
    gate, released = asyncio.Event(), list[str]()
    proxy = a_proxy()
    handle = cast(ServerSessionHandle, object())
    proxy.client_links.links[handle] = _slow_link(proxy, gate, released)
    dropping = asyncio.ensure_future(proxy.client_links.drop(handle))
    await asyncio.sleep(0)  # the drop took the link and waits in its close
    closing = asyncio.ensure_future(proxy.client_links.aclose())
    await asyncio.sleep(0.01)
    assert not closing.done()
    gate.set()
    async with asyncio.timeout(WAIT):
        await asyncio.wait((dropping, closing))
    assert released == ["reaped"] and closing.exception() is None


async def test_a_cancelled_close_of_the_proxy_still_waits_for_a_dropped_session_link() -> None:
    """The proxy's close is cancelled on its way (its server's end outlasted the client's
    wait, which then cancels it): the close under way in the drop's task is still waited
    for, bounded, before the cancellation goes on (a config test saw its process left)."""
    gate, released = asyncio.Event(), list[str]()
    proxy = a_proxy()
    handle = cast(ServerSessionHandle, object())
    proxy.client_links.links[handle] = _slow_link(proxy, gate, released)
    dropping = asyncio.ensure_future(proxy.client_links.drop(handle))
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(proxy.client_links.aclose())
    await asyncio.sleep(0.01)
    closing.cancel()
    await asyncio.sleep(0.01)
    assert not closing.done()  # before, the cancelled wait for the drop's close gave up
    gate.set()
    async with asyncio.timeout(WAIT):
        await asyncio.wait((dropping, closing))
    assert released == ["reaped"] and closing.cancelled()
