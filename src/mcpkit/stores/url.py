"""Every store a server uses, named by one URL (issue 23): `memory://` (the default: this
process only), `sqlite:///path` (durable on one host: a restarted server finds its sessions,
their event logs and its tasks), `redis://host:port/db` (shared by many processes on many
hosts; `pip install "mcpkit[redis]"`).

    server = Server("notes", store="sqlite:///var/lib/notes/state.db")
    mcpkit run notes.py --transport http --store redis://127.0.0.1:6379/0 --workers 4

`open_store(url)` makes the `Stores` a URL names; `Server(store=...)` takes a URL or a
`Stores`. The SQLite path follows SQLAlchemy's spelling: `sqlite:///state.db` is relative
to the working directory, `sqlite:////var/lib/state.db` absolute (four slashes). Options
after `?`: `lease=` (seconds, see `lease_of`), `timeout=` (seconds a store call may take,
see `timeout_of` and `mcpkit.stores.deadline`) and `max_pool_bytes=` (bytes all callers'
state may take, see `pool_bytes_of`), for every kind of store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from mcpkit._extras import missing_message, needs_extra
from mcpkit.stores.broker import Broker, MemoryBroker
from mcpkit.stores.buckets import SharedBuckets
from mcpkit.stores.deadline import (
    DEFAULT_STORE_TIMEOUT,
    StoreDeadline,
    StoreUnavailable,
    bounded,
)
from mcpkit.stores.event_log import EventStore
from mcpkit.stores.kv import (
    DEFAULT_MAX_POOL_BYTES,
    KeyValueStore,
    MemoryKeyValueStore,
    check_pool_bytes,
)
from mcpkit.stores.liveness import Liveness, SharedSecrets
from mcpkit.stores.replay import MemoryReplayCache, ReplayCache
from mcpkit.stores.sessions import SessionStore
from mcpkit.stores.tasks import MemoryTaskStore, TaskStore

__all__ = [
    "CHECK_TIMEOUT",
    "DEFAULT_STORE",
    "DEFAULT_STORE_TIMEOUT",
    "StoreUnavailable",
    "Stores",
    "as_stores",
    "check_store_url",
    "open_store",
    "pool_bytes_of",
    "timeout_of",
]

logger = logging.getLogger("mcpkit.stores")

#: Connections to Redis one process opens at most (the subscriptions of the task store and
#: the broker among them).
REDIS_CONNECTIONS: Final = 64
#: Seconds of a lease (a task's, a process's) when the URL names none (`?lease=`).
DEFAULT_LEASE: Final = 30.0
#: Seconds `Stores.check` gives a store to answer before serving starts: a store that is
#: down is said in one line at once, not found out by the first request.
CHECK_TIMEOUT: Final = 5.0
#: What a server uses when it is given no store.
DEFAULT_STORE: Final = "memory://"
#: Options of a Redis URL that redis-py reads itself (`Redis.from_url`).
_CLIENT_OPTIONS: Final = frozenset(
    {
        "db",
        "password",
        "username",
        "socket_timeout",
        "socket_connect_timeout",
        "health_check_interval",
    }
)
#: Options of a store URL that mcpkit reads itself.
_OPTIONS: Final = ("lease", "timeout", "max_pool_bytes")
_SCHEMES: Final = ("memory://", "sqlite:///path", "redis://host:port/db", "rediss://...")


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """The stores of one server, as one URL named them.

    `tasks` keeps the tasks of both protocol eras; `broker` carries changes (list_changed,
    resources/updated) to every process. `sessions` keeps 2025-11-25 session records and
    `events` the SSE event logs for resumption; None for each means the HTTP app's own
    in-process default (no records; a `MemoryEventStore` with the app's replay settings).
    `shared` says other processes see the same state (SQLite, Redis): `mcpkit proxy`, whose
    sessions are live subprocesses, refuses such a store. `buckets` holds the token buckets
    of rate limits (`RateLimit`) where every process counts (Redis; None: each process
    counts its own). `liveness` holds the leases of the processes sharing the store, and
    `lease` is their length in seconds (the URL's `?lease=`, as for tasks): a stream relayed
    from a process whose lease lapsed ends its call with an error (None: nothing is known of
    other processes). `secrets` are what the processes sharing the store agree on: the
    key sealing a 2026-07-28 `requestState` when the server was given none. `replay` holds the
    values accepted once (a DPoP proof's `jti`, a single-use `requestState`), where every
    process sharing the store looks. `url` is the URL with any password hidden, for logs and
    messages. `default` says the server was given no store (`as_stores(None)`): several
    workers replace it with a private SQLite store, where a `memory://` given on purpose is
    refused (docs/deploy.md). `timeout` is how many
    seconds a call to a store that may wait on something else (Redis, a SQLite file) may
    take before it fails with `StoreUnavailable` (the URL's `?timeout=`;
    `mcpkit.stores.deadline`): a request meets an outage as an error, never a hang. `kv`
    keeps values for a time (`server.kv`, a handler's `ctx.set_state()`, `ResponseCache`),
    where every process sharing the store looks."""

    url: str
    tasks: TaskStore
    broker: Broker
    sessions: SessionStore | None = None
    events: EventStore | None = None
    shared: bool = False
    buckets: SharedBuckets | None = None
    liveness: Liveness | None = None
    lease: float = DEFAULT_LEASE
    secrets: SharedSecrets | None = None
    replay: ReplayCache = field(default_factory=MemoryReplayCache)
    kv: KeyValueStore = field(default_factory=MemoryKeyValueStore)
    default: bool = False
    closers: tuple[Callable[[], Awaitable[None]], ...] = field(default=(), repr=False)
    probe: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)
    timeout: float = DEFAULT_STORE_TIMEOUT

    async def check(self, timeout: float = CHECK_TIMEOUT) -> None:
        """Raise `StoreUnavailable` unless the store answers within `timeout` seconds: what
        `Server.run()` and `mcpkit run` do before they serve, so that a Redis that is down is
        one line at start rather than retries and tracebacks under a server that says it
        serves. A store in this process (memory, an opened SQLite file) always answers."""
        if self.probe is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await self.probe()
        except TimeoutError:
            raise StoreUnavailable(
                f"the store {self.url} did not answer in {timeout:g} s"
            ) from None
        except Exception as exc:
            reason = (str(exc) or type(exc).__name__).rstrip(".")
            raise StoreUnavailable(f"cannot reach the store {self.url} ({reason})") from None

    async def aclose(self) -> None:
        """Release what the stores hold (a database thread, connections). `mcpkit run` and
        `Server.run()` call it at shutdown; an app served otherwise calls it at its end."""
        for close in self.closers:
            try:
                # A store that hangs must not hold the shutdown: what it had not written yet
                # (queued appends, say) is given up after the store's own timeout.
                async with asyncio.timeout(self.timeout):
                    await close()
            except TimeoutError:
                logger.warning("the store %s did not close within %g s", self.url, self.timeout)


def check_store_url(url: str) -> str:
    """The kind of store `url` names ("memory", "sqlite" or "redis"), opening nothing;
    ValueError saying what is wrong and naming the accepted forms."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "memory" and rest.partition("?")[0] in ("", "/"):
        pool_bytes_of(url)
        return "memory"
    if scheme in ("sqlite", "redis", "rediss", "unix"):
        lease_of(url)
        timeout_of(url)
        pool_bytes_of(url)
    if scheme == "sqlite":
        if not rest.startswith("/") or rest in ("/", "//"):
            raise ValueError(
                "a SQLite store names a file: sqlite:///relative/path.db or "
                f"sqlite:////absolute/path.db, not {url!r}"
            )
        return "sqlite"
    if scheme in ("redis", "rediss", "unix"):
        import importlib.util

        if importlib.util.find_spec("redis") is None:
            raise ValueError(missing_message("redis", "redis", f"the store {_hidden(url)}"))
        return "redis"
    raise ValueError(f"unknown store {_hidden(url)!r}: use one of {', '.join(_SCHEMES)}")


def lease_of(url: str) -> float:
    """The `lease` option of a store URL (`?lease=10`): seconds a process running a task may
    go without renewing it before the task is failed (`LeasedTaskStore`), and a process
    serving streams before those it produced are taken for ended (`Stores.liveness`); 30 by
    default."""
    return _seconds(url, "lease", DEFAULT_LEASE)


def timeout_of(url: str) -> float:
    """The `timeout` option of a store URL (`?timeout=2`): seconds a call to the store may
    take (a session read, an event appended, a task written) before it fails with
    `StoreUnavailable`, so that a store that hangs or is down is an error for the request
    that needed it, never a wait without end; 5 by default."""
    return _seconds(url, "timeout", DEFAULT_STORE_TIMEOUT)


def pool_bytes_of(url: str) -> int:
    """The `max_pool_bytes` option of a store URL (`?max_pool_bytes=8388608`): bytes all
    callers' state may take together in the store, past which the state written the longest
    ago is dropped (`mcpkit.stores.kv.Limit`); `DEFAULT_MAX_POOL_BYTES` (32 MiB) by default."""
    values = _options(url).get("max_pool_bytes", [str(DEFAULT_MAX_POOL_BYTES)])
    try:
        return check_pool_bytes(int(values[-1]))
    except ValueError:
        raise ValueError(
            f"max_pool_bytes={values[-1]!r} must be a whole number of bytes above 0"
        ) from None


def _options(url: str) -> dict[str, list[str]]:
    """The options of a store URL; ValueError for any mcpkit and the store's client do not
    know (a misspelt option would otherwise leave its default in force unsaid)."""
    options = parse_qs(urlsplit(url).query, keep_blank_values=True)
    client: frozenset[str] = frozenset()
    if url.lower().startswith(("redis", "unix")):
        client = _CLIENT_OPTIONS
    unknown = sorted(set(options) - client - set(_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown store option {unknown[0]!r} in {_hidden(url)!r}: known: {', '.join(_OPTIONS)}"
        )
    return options


def _seconds(url: str, name: str, default: float) -> float:
    """Option `name` of a store URL, seconds above 0 (`default` when absent); ValueError for
    any option mcpkit and the store's client do not know."""
    values = _options(url).get(name, [str(default)])
    try:
        seconds = float(values[-1])
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 86_400:
        raise ValueError(f"{name}={values[-1]!r} must be a number of seconds above 0")
    return seconds


def open_store(url: str) -> Stores:
    """The stores `url` names (`memory://`, `sqlite:///path`, `redis://host:port/db`);
    ValueError naming the accepted forms for anything else."""
    kind = check_store_url(url)
    if kind == "memory":
        kv = MemoryKeyValueStore(max_pool_bytes=pool_bytes_of(url))
        return Stores(url=url, tasks=MemoryTaskStore(), broker=MemoryBroker(), kv=kv)
    if kind == "sqlite":
        return _sqlite(url)
    return _redis(url)


def as_stores(store: str | Stores | None) -> Stores:
    """`store` as `Server(store=...)` takes it: a `Stores`, a URL, or None for `memory://`."""
    if isinstance(store, Stores):
        return store
    if store is None:
        return dataclasses.replace(open_store(DEFAULT_STORE), default=True)
    return open_store(store)


def _sqlite(url: str) -> Stores:
    import sqlite3

    from mcpkit.stores._private_files import make_private_folder
    from mcpkit.stores.sqlite import (
        SqliteEventStore,
        SqliteLiveness,
        SqliteReplayCache,
        SqliteSecrets,
        SqliteSessionStore,
    )
    from mcpkit.stores.sqlite_broker import SqliteBroker
    from mcpkit.stores.sqlite_database import SqliteDatabase
    from mcpkit.stores.sqlite_kv import SqliteKeyValueStore
    from mcpkit.stores.sqlite_tasks import SqliteTaskStore

    path = url.partition("://")[2][1:].partition("?")[0]
    try:
        if path != ":memory:":
            make_private_folder(Path(path).parent)
        db = SqliteDatabase(path)
    except (OSError, sqlite3.Error) as exc:
        # A folder in the way, a file that is not a database, no permission: said before
        # anything serves, with the path as the user gave it.
        where = Path(path).resolve() if path != ":memory:" else path
        raise ValueError(f"cannot open the SQLite store at {where}: {exc}") from None
    lease = lease_of(url)
    # A file another process holds locked makes a statement wait (up to its busy timeout),
    # then fail with OperationalError: either is the store being out of reach.
    deadline = StoreDeadline(_hidden(url), timeout_of(url), (sqlite3.OperationalError,))
    # The processes sharing the file carry each other's news and answers through it; a
    # database in memory has no other process to tell.
    broker: Broker = MemoryBroker()
    closers: tuple[Callable[[], Awaitable[None]], ...] = (db.aclose,)
    if path != ":memory:":
        shared = SqliteBroker(db)
        broker, closers = shared, (shared.aclose, db.aclose)
    return Stores(
        url=url,
        tasks=bounded(SqliteTaskStore(db, lease=lease), deadline),
        broker=broker,
        sessions=bounded(SqliteSessionStore(db), deadline),
        events=bounded(SqliteEventStore(db), deadline),
        shared=True,
        liveness=bounded(SqliteLiveness(db), deadline),
        lease=lease,
        secrets=bounded(SqliteSecrets(db), deadline),
        replay=bounded(SqliteReplayCache(db), deadline),
        kv=bounded(SqliteKeyValueStore(db, max_pool_bytes=pool_bytes_of(url)), deadline),
        closers=closers,
        timeout=deadline.seconds,
    )


def _redis(url: str) -> Stores:
    with needs_extra("redis", f"the store {_hidden(url)}"):
        from redis.asyncio import BlockingConnectionPool, Redis
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

    from mcpkit.stores.redis import (
        RedisBroker,
        RedisBuckets,
        RedisEventStore,
        RedisKeyValueStore,
        RedisLiveness,
        RedisReplayCache,
        RedisSecrets,
        RedisSessionStore,
        RedisTaskStore,
    )

    lease = lease_of(url)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k not in _OPTIONS]
    # A blocking pool: past its size a command waits for a connection, where redis-py's
    # default pool raises once that many commands are under way at once.
    pool = BlockingConnectionPool.from_url(  # pyright: ignore[reportUnknownMemberType]
        urlunsplit(parts._replace(query=urlencode(kept))), max_connections=REDIS_CONNECTIONS
    )
    client = Redis.from_pool(pool)
    broker = RedisBroker(client)
    tasks = RedisTaskStore(client, lease=lease)
    events = RedisEventStore(client)
    # redis-py retries a lost connection with backoff, and waits on a stopped server
    # without end: the deadline bounds both.
    unreachable = (RedisConnectionError, RedisTimeoutError, OSError)
    deadline = StoreDeadline(_hidden(url), timeout_of(url), unreachable)

    async def close_client() -> None:
        await client.aclose()

    async def ping() -> None:
        await client.ping()  # pyright: ignore[reportUnknownMemberType]

    return Stores(
        url=_hidden(url),
        tasks=bounded(tasks, deadline),
        broker=broker,
        sessions=bounded(RedisSessionStore(client), deadline),
        events=bounded(events, deadline),
        shared=True,
        buckets=bounded(RedisBuckets(client), deadline),
        liveness=bounded(RedisLiveness(client), deadline),
        lease=lease,
        secrets=bounded(RedisSecrets(client), deadline),
        replay=bounded(RedisReplayCache(client), deadline),
        kv=bounded(RedisKeyValueStore(client, max_pool_bytes=pool_bytes_of(url)), deadline),
        closers=(broker.aclose, tasks.aclose, events.aclose, close_client),
        probe=ping,
        timeout=deadline.seconds,
    )


def _hidden(url: str) -> str:
    """`url` with its password replaced by `***`, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[2]}"))
