"""The parts of DPoP checking that need no HTTP: server nonces turning with their window
(fake clock), and a store that does not answer making the request 503, never a pass."""

from __future__ import annotations

import asyncio

from _dpop_world import dpop_server, proof, token

from mcpkit.auth.server._dpop_nonce import NonceSource
from mcpkit.auth.server.dpop import RequestProof
from mcpkit.auth.server.resource import AuthFailure
from mcpkit.stores.liveness import MemorySecrets

URL = "https://mcp.example.com/mcp"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_nonce_lasts_its_window_and_the_next_then_is_refused() -> None:
    clock = Clock()
    shared = MemorySecrets()
    nonces = NonceSource(300, shared, clock)
    other_worker = NonceSource(300, shared, clock)
    first = await nonces.current()
    assert await other_worker.accepts(first) and await other_worker.current() == first
    clock.now += 300
    assert await nonces.current() != first and await nonces.accepts(first)
    clock.now += 300
    assert not await nonces.accepts(first)
    assert not await NonceSource(300, MemorySecrets(), clock).accepts(await nonces.current())


class HungReplay:
    """A replay cache whose store never answers (a Redis stopped with SIGSTOP)."""

    async def first_use(self, key: str, ttl: float) -> bool:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_replay_cache_that_does_not_answer_makes_the_request_503() -> None:
    auth = dpop_server(verify_timeout=0.2).auth
    assert auth is not None
    tok = token(URL)
    request = RequestProof(
        auth.proof_checker(HungReplay(), None),
        "POST",
        URL,
        [proof("POST", URL, tok).encode()],
    )
    async with asyncio.timeout(10):
        found = await auth.authenticate([f"DPoP {tok}".encode()], URL, request)
    assert isinstance(found, AuthFailure)
    assert (found.status, found.error) == (503, "temporarily_unavailable")
