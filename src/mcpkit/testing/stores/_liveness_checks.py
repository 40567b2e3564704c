"""The behaviour every `mcpkit.stores.liveness.Liveness` has: a lease is held from `beat`
until it lapses or is given up, renewing keeps it, and one process's lease says nothing of
another's. On real time, with leases of a fraction of a second: a shared store keeps time
on its own clock (Redis's), which no test can move."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from mcpkit.stores.liveness import Liveness

__all__ = ["LivenessChecks"]

_LEASE = 0.3


class LivenessChecks:
    """Checks any `Liveness` passes. Subclass it in a test module under a name pytest
    collects and define `make_liveness`."""

    async def make_liveness(self) -> Liveness:
        """New leases, none held. Override it."""
        raise NotImplementedError("define make_liveness() in your subclass of LivenessChecks")

    async def close_liveness(self, liveness: Liveness) -> None:
        """Release what `make_liveness` took; by default nothing."""

    @asynccontextmanager
    async def _made(self) -> AsyncGenerator[Liveness, None]:
        liveness = await self.make_liveness()
        try:
            yield liveness
        finally:
            await self.close_liveness(liveness)

    async def test_a_process_is_alive_from_its_beat_until_its_lease_lapses(self) -> None:
        async with self._made() as liveness:
            assert not await liveness.alive("p1")  # never seen
            await liveness.beat("p1", _LEASE)
            assert await liveness.alive("p1")
            assert not await liveness.alive("p2")
            await asyncio.sleep(_LEASE * 2)
            assert not await liveness.alive("p1")

    async def test_renewing_keeps_a_lease(self) -> None:
        async with self._made() as liveness:
            for _ in range(6):  # twice the lease in all
                await liveness.beat("p1", _LEASE)
                await asyncio.sleep(_LEASE / 3)
                assert await liveness.alive("p1")

    async def test_a_lease_given_up_ends_at_once_and_only_its_own(self) -> None:
        async with self._made() as liveness:
            await liveness.beat("p1", 60)
            await liveness.beat("p2", 60)
            await liveness.end("p1")
            await liveness.end("never seen")  # harmless
            assert not await liveness.alive("p1")
            assert await liveness.alive("p2")
            await liveness.end("p2")

    async def test_any_text_names_one_process(self) -> None:
        async with self._made() as liveness:
            odd = ["a:b", "*", "p1*", "\u00e9t\u00e9", "x" * 300, "x" * 301]
            await liveness.beat(odd[0], 60)
            await liveness.beat(odd[4], 60)
            assert [await liveness.alive(p) for p in odd] == [
                True,
                False,
                False,
                False,
                True,
                False,
            ]
            for process in odd:
                await liveness.end(process)
