"""Fixtures for the hostile suite: a live, initialized server per way of starting one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hostile.harness import COMMANDS, RawServer, ServerGone


class LiveServer:
    """Hands out a live, initialized server, restarting it when a test has killed it, so
    that each bad line is judged on its own while the healthy cases share one process."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.current: RawServer | None = None

    def get(self) -> RawServer:
        server = self.current
        if server is not None:
            try:
                server.ping_after()
                return server
            except (ServerGone, AssertionError):
                server.close()
        server = self.current = RawServer(self.command)
        server.initialize()
        return server

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


@pytest.fixture(scope="module", params=sorted(COMMANDS))
def live(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    pool = LiveServer(COMMANDS[request.param])
    try:
        yield pool
    finally:
        pool.close()
