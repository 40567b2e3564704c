"""`answered_within`: a request's timeout leaves out the time its auth spends getting a token,
starts again when that ends, and cancels the request when it runs out (on the virtual clock of
`mcpkit.testing`: no test waits for real time)."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.runtime.authorizing import Authorizing, answered_within
from mcpkit.testing import run_with_fake_clock

TIMEOUT = 30.0
LOGIN = 600.0


class Request:
    """A request whose auth may hold a token fetch open until `go_on` is set."""

    def __init__(self, watch: Authorizing, *, fetch: bool, answer: bool = True) -> None:
        self.watch = watch
        self.fetch = fetch
        self.answer = answer
        self.fetching = asyncio.Event()
        self.go_on = asyncio.Event()
        self.cancelled = False

    async def __call__(self) -> str:
        try:
            if self.fetch:
                # In the request's first step: a fetch that starts before the waiter has
                # looked is not missed.
                with self.watch.running():
                    self.fetching.set()
                    await self.go_on.wait()
            if not self.answer:
                await asyncio.Event().wait()
            return "answer"
        except asyncio.CancelledError:
            self.cancelled = True
            raise


def test_a_token_fetch_longer_than_the_timeout_does_not_count() -> None:
    async def main() -> None:
        watch = Authorizing()
        request = Request(watch, fetch=True)
        waiting = asyncio.create_task(answered_within(request(), TIMEOUT, watch))
        await request.fetching.wait()
        await asyncio.sleep(LOGIN)
        request.go_on.set()
        assert await waiting == "answer"
        assert not request.cancelled

    run_with_fake_clock(main())


@pytest.mark.parametrize("fetch", [False, True])
def test_a_request_with_no_answer_times_out_and_is_cancelled(fetch: bool) -> None:
    async def main() -> None:
        watch = Authorizing()
        request = Request(watch, fetch=fetch, answer=False)
        request.go_on.set()  # a fetch, if any, ends at once: the clock starts again then
        with pytest.raises(TimeoutError):
            await answered_within(request(), TIMEOUT, watch)
        assert request.cancelled
        assert not watch.active

    run_with_fake_clock(main())


def test_cancelling_the_waiter_cancels_the_request() -> None:
    async def main() -> None:
        watch = Authorizing()
        request = Request(watch, fetch=True)
        waiting = asyncio.create_task(answered_within(request(), TIMEOUT, watch))
        await request.fetching.wait()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert request.cancelled
        assert not watch.active  # the fetch's `running()` ended with it

    run_with_fake_clock(main())
