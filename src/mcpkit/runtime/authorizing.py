"""`Authorizing`, the token fetches an HTTP auth runs now, so that a wait which measures how
long a server takes to answer (the connect's `server/discover` probe, its `initialize`)
leaves out the time spent getting a token (a person logging in at the authorization server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Generator
from typing import Protocol, TypeVar, runtime_checkable

__all__ = ["Authorizes", "Authorizing", "answered_within"]

T = TypeVar("T")


class Authorizing:
    """How many token fetches run now, and a way to wait until that changes: an auth
    (`TokenAuth`) enters `running()` around each one, a channel passes it on
    (`ChannelExtras.authorizing`)."""

    __slots__ = ("_changed", "count")

    def __init__(self) -> None:
        #: Fetches running now: a count, not a flag, since requests sent together may each
        #: be waiting on a fetch, and the clock stays stopped until the last one ends.
        self.count = 0
        # Made on demand and replaced at each change, so each waiter wakes once per change;
        # None while nobody waits, so a fetch with no waiter costs no Event.
        self._changed: asyncio.Event | None = None

    @property
    def active(self) -> bool:
        """Whether a token fetch runs now (the clock of `answered_within` is stopped)."""
        return self.count > 0

    @contextlib.contextmanager
    def running(self) -> Generator[None]:
        """Around one token fetch (discovery, a login, a refresh, waiting for another's)."""
        self._bump(1)
        try:
            yield
        finally:
            self._bump(-1)

    def next_change(self) -> asyncio.Event:
        """Set when a fetch next starts or ends (made now, so no change after this is missed)."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _bump(self, by: int) -> None:
        """Count a fetch in or out and wake whoever waits for the next change."""
        self.count += by
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()


@runtime_checkable
class Authorizes(Protocol):
    """An auth, or a channel carrying one, that tells its token fetches.

    A Protocol, so that an `httpx.Auth` of the caller's own is simply one without it: its
    fetches are then counted in the timeout like any other wait.
    """

    @property
    def authorizing(self) -> Authorizing | None: ...


async def answered_within(
    request: Awaitable[T], timeout: float | None, authorizing: Authorizing | None
) -> T:
    """`request`'s result, or TimeoutError once it has waited `timeout` seconds with no token
    fetch running. The clock stops while `authorizing` runs one and starts again from zero
    when it ends: the request then goes out again with the token, to be answered afresh.
    A fetch has deadlines of its own (each HTTP call, the login's), so no wait is endless."""
    # Nothing to leave out: a plain timeout, with no task made.
    if timeout is None or authorizing is None:
        async with asyncio.timeout(timeout):
            return await request
    # A task, so the request runs on while we wait on the fetches' changes beside it.
    task = asyncio.ensure_future(request)
    try:
        while True:
            # Taken before the wait: a fetch that starts or ends during it ends the wait,
            # and the loop starts a new one with the clock stopped or restarted from zero.
            changed = asyncio.ensure_future(authorizing.next_change().wait())
            try:
                done, _ = await asyncio.wait(
                    (task, changed),
                    timeout=None if authorizing.active else timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                changed.cancel()
            if task in done:
                return task.result()
            # Neither the answer nor a change within `timeout` with no fetch running.
            if not done:
                raise TimeoutError
    finally:
        if not task.done():
            # Cancelled as a request is: its caller (`Connection.request`) tells the peer.
            task.cancel()
            await asyncio.wait((task,))
