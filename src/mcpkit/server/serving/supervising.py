"""The supervisor of `run(transport="http", workers=N)`: the store the workers will share,
refused when they cannot share it and checked to answer before any starts; the port bound
once; the workers started on it and watched until SIGINT or SIGTERM.

Apart from `transport_serving` (the ways into a server) and `_http_run` (one process serving
with uvicorn) because the supervisor serves nothing itself: it only prepares and watches the
processes that do (`_workers`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from mcpkit.server.serving._private_store import StoreHolder, private_store
from mcpkit.server.serving._run import checked, log_to_stderr, loop_factory
from mcpkit.server.serving._workers import supervise
from mcpkit.server.serving.listening_sockets import bind_sockets, url_of

if TYPE_CHECKING:
    from mcpkit.stores.url import Stores

__all__ = ["SupervisedServer", "supervise_run", "supervise_workers", "unshared_refusal"]

logger = logging.getLogger("mcpkit.server")


class SupervisedServer(StoreHolder, Protocol):
    """What the supervisor needs of a server (`mcpkit.Server`): its store, to share with the
    workers, and its name for the log (named here so that `transport_serving`, whose
    `Servable` has both, and this module do not import each other)."""

    @property
    def name(self) -> str: ...


def supervise_run(
    server: SupervisedServer, workers: int, *, host: str, port: int, path: str, stateless: bool
) -> None:
    """Serve with `workers` processes, once the store is one they share and it answers: a
    private SQLite store when the server was given none."""
    log_to_stderr()
    # `private_store` puts a SQLite file where the workers will all find it (its path in
    # `env`), and removes it when they have stopped: the default store works with workers.
    with private_store(server, workers, stateless) as env:
        refusal = unshared_refusal(server.store, workers, stateless)
        if refusal is not None:
            raise SystemExit(
                f"workers={workers} needs {refusal}: give store='redis://HOST:PORT/DB'"
                f"{_ON_ONE_HOST}"
            )
        # Checked once here, so an unreachable store is one error at startup instead of N
        # workers failing and being restarted in a loop.
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(_checked_then_closed(server.store))  # the workers open their own
        _warn_unshared(server.store, workers)
        code = supervise_workers(server, workers, host=host, port=port, path=path, env=env)
    if code:
        raise SystemExit(code)


def supervise_workers(
    server: SupervisedServer,
    workers: int,
    *,
    host: str,
    port: int,
    path: str,
    env: Mapping[str, str] | None = None,
) -> int:
    """Bind `host`:`port` here and serve it with `workers` processes (`_workers.supervise`,
    `env` added to their environment) until SIGINT or SIGTERM; the exit status.

    The supervisor binds once and hands the same sockets to every worker, so that all
    accept on one port and the kernel spreads connections among them; it serves nothing
    itself."""
    sockets = bind_sockets(host, port)
    try:
        url = url_of(sockets[0], path)
        return supervise(sockets, workers, name=server.name, url=url, env=env)
    finally:
        for sock in sockets:
            sock.close()


#: How a refusal of an unshared store names SQLite, after the Redis URL it suggests.
_ON_ONE_HOST = " (or sqlite:///PATH, on one host)"


def unshared_refusal(store: Stores, workers: int, stateless: bool) -> str | None:
    """What `workers` processes need that `store` is not, or None when they can serve on it.

    A store the workers do not share (`memory://`) would serve a 2025-11-25 session in the
    one worker that opened it and answer its requests that reach another with 404: never
    served, whatever the warning said (issue 38). Stateless serving keeps no session, and
    the store a server gets when given none is replaced by a private SQLite one
    (`mcpkit.server.serving._private_store`)."""
    if workers <= 1 or store.shared or stateless or store.default:
        return None
    return (
        f"a store the workers share, and {store.url} is each worker's own (a 2025-11-25 "
        "session would be answered 404 by the other workers)"
    )


async def _checked_then_closed(store: Stores) -> None:
    """The supervisor of several workers checks the store they will open, then lets it go."""
    try:
        await checked(store, asyncio.sleep(0))
    finally:
        await store.aclose()


def _warn_unshared(store: Stores, workers: int) -> None:
    """Say what several workers cannot do with a store they do not share live."""
    if store.shared:  # Redis, or SQLite, which carries the same between the processes of a host
        return
    logger.warning(  # stateless (`unshared_refusal` lets nothing else through)
        "%d stateless workers on %s: a task lives in the worker that made it (the others "
        "answer that it does not exist), list_changed and resources/updated reach only "
        "the listens of the worker that announced them, and a single-use requestState is "
        "spent only in the worker it reached (a replayed retry may run again on another); "
        "give --store redis://HOST:PORT/DB to share them",
        workers,
        store.url,
    )
