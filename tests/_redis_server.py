"""A real `redis-server` for tests (Debian's package; scripts/test installs it), or the binary
MCPKIT_TEST_REDIS_SERVER names (`valkey-server`): started on a free port of 127.0.0.1 with no
persistence, in a directory of its own, stopped at the end.
tests/conftest.py makes it the `redis_server` fixture of every test directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _ports import spare_port

__all__ = ["RedisServer", "missing", "redis_server_running", "server_binary", "shared_store_url"]

#: The server binary the tests start instead of redis-server, when set: `valkey-server`, say
#: (it takes the same flags), to run every Redis test against Valkey.
SERVER_ENV = "MCPKIT_TEST_REDIS_SERVER"


def server_binary() -> str:
    """The server the tests start: what MCPKIT_TEST_REDIS_SERVER names, else redis-server."""
    return os.environ.get(SERVER_ENV) or "redis-server"


def missing() -> str:
    """What to say when that server is not installed."""
    return (
        f"{server_binary()} is not installed, and the Redis store tests need a real one: "
        f"scripts/test installs redis-server (or: apt-get install redis-server; {SERVER_ENV} "
        "names another server binary)"
    )


START_BOUND = 10.0  # seconds for the server to answer PING: a bound on hangs, not a measure
_ATTEMPTS = 5  # another process may take the free port we found before the server binds it


@dataclass(frozen=True, slots=True)
class RedisServer:
    """A running server: its `url` (`redis://127.0.0.1:<port>/0`) and its `log` file."""

    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def shared_store_url(
    kind: str, folder: Path, request: pytest.FixtureRequest, *, db: int, lease: float
) -> str:
    """The URL of a store processes share, for tests run on each kind: "sqlite" (a file in
    `folder`) or "redis" (database `db` of the `redis_server` fixture), with `?lease=`."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'state.db'}?lease={lease:g}"
    redis: RedisServer = request.getfixturevalue("redis_server")
    return f"redis://127.0.0.1:{redis.port}/{db}?lease={lease:g}"


@contextlib.contextmanager
def redis_server_running(
    directory: Path, port: int | None = None, *, flags: tuple[str, ...] = ()
) -> Iterator[RedisServer]:
    """A redis-server serving in `directory` for as long as the context lasts, on `port`
    (one another server used before: a restart, as clients see it), else on a free one;
    `flags` are more of its command line (`--cluster-enabled yes`, say)."""
    executable = shutil.which(server_binary())
    if executable is None:
        raise RuntimeError(missing())
    failures: list[str] = []
    for attempt in range(_ATTEMPTS):
        server = RedisServer(port=port or spare_port(), log=directory / f"redis-{attempt}.log")
        process = subprocess.Popen(
            [
                executable,
                *("--bind", "127.0.0.1", "--port", str(server.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(directory)),
                *("--logfile", str(server.log), "--daemonize", "no"),
                *flags,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if _answers(server.port, process):
                yield server
                return
            failures.append(server.log.read_text() if server.log.exists() else "(no log)")
        finally:
            _stop(process)
    raise RuntimeError(f"redis-server did not start in {_ATTEMPTS} tries:\n" + failures[-1])


def _answers(port: int, process: subprocess.Popen[bytes]) -> bool:
    """Whether the server answers PING within START_BOUND (False once it has exited: the
    port was taken meanwhile)."""
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return True
        time.sleep(0.02)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=START_BOUND)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
