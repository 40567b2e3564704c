"""One fetch at a time for a verifier's remote documents (the JWKS, the issuer's metadata),
shared by every request that needs it while it runs, spaced out after a success and backed
off after failures, so a flood of requests costs one fetch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from mcpkit.auth._fetch import FetchFailed

__all__ = ["Attempts"]

logger = logging.getLogger("mcpkit.auth")

# Seconds before the first retry of a failed fetch (then doubled each failure).
FIRST_RETRY = 1.0


class Attempts:
    """Runs fetches one at a time: `run(start)` starts `start()` unless one runs (then waits
    for it) or the last began too recently: `interval` seconds after a success, 1 s, 2, 4...
    up to `interval` after failures. `failure` is why the last one failed (None: it did not);
    a `FetchFailed` is logged (at `level`, after `what`), anything else propagates."""

    def __init__(
        self, *, clock: Callable[[], float], interval: float, what: str, level: int
    ) -> None:
        self._clock = clock
        self._interval = interval
        self._what = what
        self._level = level
        self.failure: str | None = None
        self._backoff = FIRST_RETRY
        self._attempted_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None

    def _may_start(self, now: float) -> bool:
        if self._attempted_at is None:
            return True
        since = now - self._attempted_at
        wait = self._interval if self.failure is None else self._backoff
        # A clock set back must not stop fetches until it catches up.
        return since < 0 or since >= wait

    async def run(self, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
        # In a task of its own: a waiting request cancelled (its client went away) must not
        # cancel the fetch, which would leave every other waiting for `interval`.
        if self._inflight is None:
            now = self._clock()
            if not self._may_start(now):
                return
            self._attempted_at = now
            job = start()  # what `start` raises (a closed verifier) reaches the caller
            self._inflight = asyncio.get_running_loop().create_task(self._attempt(job))
        inflight = self._inflight
        try:
            await asyncio.shield(inflight)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not inflight.cancelled() or (current is not None and current.cancelling()):
                raise
            # `aclose()` stopped the fetch, not our caller: go on with what is held.

    async def _attempt(self, job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
            self.failure, self._backoff = None, FIRST_RETRY
        except FetchFailed as exc:
            logger.log(self._level, "%s: %s", self._what, exc)
            if self.failure is not None:  # the wait before this try doubles for the next
                self._backoff = min(self._backoff * 2, self._interval)
            self.failure = str(exc)
        finally:
            job.close()  # a no-op once it ran; cancelled before it started, not left unawaited
            self._inflight = None

    async def aclose(self) -> None:
        """Stops a fetch under way."""
        inflight = self._inflight
        if inflight is not None:
            inflight.cancel()
            await asyncio.gather(inflight, return_exceptions=True)
