"""Which processes sharing a store still run.

Each process serving from a shared store (`sqlite:///...`, `redis://...`) holds a lease on
its tag (`process_tag()`), renewed every quarter of it while its server serves, and given
up when it stops. Another process asks `alive(tag)` about the producer of a stream it
relays (`mcpkit.transports.deployment.relay`): once the producer's lease has lapsed (it was
killed, or its host went away), nothing more will be written to that stream, and the
relay ends the call it carried with an error rather than keep the client waiting forever.

A store that other processes do not see has no `Liveness`: from it nothing can be known of
another process, and a relay waits for its producer as long as the client does.

The processes sharing a store also agree on secrets through it (`SharedSecrets`): the key
that seals a 2026-07-28 `requestState`, when none is configured, so that the retry of a
tool that asked its client something opens on whichever process it reaches.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Final, Protocol

from mcpkit.stores.random_tokens import token_bytes, token_urlsafe

__all__ = ["Liveness", "MemoryLiveness", "MemorySecrets", "SharedSecrets", "process_tag"]

#: Characters of a process tag: 48 random bits, URL-safe.
TAG_LENGTH: Final = 8

_tag: str | None = None


def process_tag() -> str:
    """This process's tag: drawn once per process (again in a forked child), so that two
    processes sharing a store never share one. Stream ids carry it (their producer), and
    `Liveness` leases are taken on it."""
    global _tag
    if _tag is None:
        _tag = token_urlsafe(6)
    return _tag


def _forget_tag() -> None:
    global _tag
    _tag = None


os.register_at_fork(after_in_child=_forget_tag)


class Liveness(Protocol):
    """The leases of the processes sharing a store. `beat(process, lease)` takes or renews
    `process`'s lease for `lease` seconds; `alive(process)` says whether a lease on it is
    held now (False for a process never seen, or seen only before its lease lapsed);
    `end(process)` gives the lease up at once (a process stopping cleanly)."""

    async def beat(self, process: str, lease: float) -> None: ...

    async def alive(self, process: str) -> bool: ...

    async def end(self, process: str) -> None: ...


class MemoryLiveness:
    """`Liveness` within one process, on `clock` (seconds): for tests, and the reference the
    shared ones are checked against (`mcpkit.testing.stores.LivenessChecks`)."""

    __slots__ = ("_clock", "_leases")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._leases: dict[str, float] = {}

    async def beat(self, process: str, lease: float) -> None:
        now = self._clock()
        self._leases = {p: t for p, t in self._leases.items() if t > now}  # the lapsed go
        self._leases[process] = now + lease

    async def alive(self, process: str) -> bool:
        deadline = self._leases.get(process)
        return deadline is not None and deadline > self._clock()

    async def end(self, process: str) -> None:
        self._leases.pop(process, None)


#: Bytes of a secret drawn by `SharedSecrets.secret`.
SECRET_BYTES: Final = 32


class SharedSecrets(Protocol):
    """Random values the processes sharing a store agree on. `secret(name)` is the value
    named `name`: drawn (SECRET_BYTES random bytes) by the first process to ask, then the
    same for every process, and kept as long as the store is (a deployment's constant, as a
    configured key would be)."""

    async def secret(self, name: str) -> bytes: ...


class MemorySecrets:
    """`SharedSecrets` within one process: for tests, and the reference."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    async def secret(self, name: str) -> bytes:
        return self._values.setdefault(name, token_bytes(SECRET_BYTES))
