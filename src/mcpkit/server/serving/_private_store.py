"""The store several workers share when they were given none: a SQLite file in a folder of
this run's own, made by the supervisor and removed when it stops (issue 38).

`memory://` would hold a 2025-11-25 session in the one worker that opened it, and the others
would answer its requests 404; a SQLite file carries sessions, tasks, news and answers
between the processes of one host (`mcpkit.stores.sqlite_broker`). Each worker runs the
program again and makes its own `Server`, with the default store: the supervisor names the
file in `PRIVATE_STORE`, and a worker whose server was given no store takes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from mcpkit.stores.url import Stores

__all__ = ["PRIVATE_STORE", "StoreHolder", "private_store", "take_private_store"]

logger = logging.getLogger("mcpkit.server")


class StoreHolder(Protocol):
    """What a private store needs of a server: its store, and a way to give it another
    (`mcpkit.server.serving.transport_serving.Servable` has both; named here so the two
    modules do not import each other)."""

    @property
    def store(self) -> Stores: ...

    def use_store(self, store: str | Stores) -> Stores: ...


#: The URL of the supervisor's private store, in its workers' environment.
PRIVATE_STORE: Final = "MCPKIT_PRIVATE_STORE"


@contextlib.contextmanager
def private_store(server: StoreHolder, workers: int, stateless: bool) -> Generator[dict[str, str]]:
    """In the supervisor: when `server` has the store it gets when given none and `workers`
    processes will keep sessions, make a folder only this user can open (0700), with an
    empty database file only this user can read (0600), give it to `server`, and say so;
    the environment its workers need to take it. The folder goes when the block ends,
    however it ends (the workers have stopped by then)."""
    if workers <= 1 or stateless or not server.store.default:
        yield {}
        return
    folder = tempfile.mkdtemp(prefix="mcpkit-workers-")
    try:
        path = Path(folder) / "state.db"
        # Made before SQLite opens it, so it never exists with wider permissions (its WAL
        # and shared-memory files take the database file's).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        url = f"sqlite:///{path}"
        server.use_store(url)
        logger.info(
            "%d workers share a private SQLite store in %s, removed when they stop; give "
            "--store sqlite:///PATH to keep it, and several hosts need --store "
            "redis://HOST:PORT/DB",
            workers,
            folder,
        )
        yield {PRIVATE_STORE: url}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def take_private_store(server: StoreHolder) -> None:
    """In a worker: use the supervisor's private store, when it made one and `server` was
    given no store of its own. The variable goes, so a process the server starts is not
    handed it."""
    url = os.environ.pop(PRIVATE_STORE, None)
    if url is not None and server.store.default:
        server.use_store(url)
