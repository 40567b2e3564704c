"""The stores in Redis: sessions, SSE event logs, tasks and the broker shared by every process
of a deployment, on many hosts (`pip install "mcpkit[redis]"`; redis-py's asyncio client,
hiredis parsing its replies when installed; a Redis 7 or Valkey server, not a Cluster).

    url = "redis://127.0.0.1:6379/0"
    pool = redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=64)
    client = redis.asyncio.Redis.from_pool(pool)
    broker = RedisBroker(client)
    sessions, events = RedisSessionStore(client), RedisEventStore(client)
    app = server.http_app(session_store=sessions, event_store=events)
    ...
    await broker.aclose()  # and each store's aclose, then
    await client.aclose()

Each takes the client, which the caller owns and closes after the stores' `aclose`. Make it
with `decode_responses=False` (the default: what is kept is bytes) and a
`BlockingConnectionPool`: redis-py's default pool raises MaxConnectionsError once 100
commands are under way at once, which a busy server reaches, where a blocking pool makes
the next command wait for a connection. Each `RedisTaskStore` and `RedisBroker` holds one
connection of the pool for its subscription.

Every key starts with the store's `prefix` ("mcpkit:"), so that several deployments may
share a database: `session:<id>` (a record) and `sessions` (ids by last seen);
`events:<stream>` and `stream:<stream>` (a stream's window and its bounds); `task:<id>`,
`owner:<owner>` and `tasks:all|expiry|leases` (see `_task_scripts`); `bucket:<key>` (a
rate limit's); `process:<tag>` (a process's lease, `RedisLiveness`); `secret:<name>`
(`RedisSecrets`); `once:<key>` (a value accepted once, `RedisReplayCache`); `{kv}:<key>`
and the other `{kv}` keys (a value of `RedisKeyValueStore`, and what its limits and pools
count: `_kv_scripts`; the hash tag puts them in one slot); and the channel `tasks:changed`.
The broker's channels are its own setting ("mcpkit:changes", and under it those of
responses and cancellations). An id from a peer is never read as a pattern, and one over
200 bytes is named by its SHA-256 (`_keys`). Every key but a secret has a TTL, so that
Redis's memory comes back to where it was once sessions, streams and tasks are gone, even
those of a process that died; a secret is 32 bytes, drawn once per deployment.
"""

from __future__ import annotations

from mcpkit.stores.redis._broker import RedisBroker
from mcpkit.stores.redis._buckets import RedisBuckets
from mcpkit.stores.redis._events import RedisEventStore
from mcpkit.stores.redis._kv import RedisKeyValueStore
from mcpkit.stores.redis._liveness import RedisLiveness, RedisReplayCache, RedisSecrets
from mcpkit.stores.redis._sessions import RedisSessionStore
from mcpkit.stores.redis._tasks import RedisTaskStore

__all__ = [
    "RedisBroker",
    "RedisBuckets",
    "RedisEventStore",
    "RedisKeyValueStore",
    "RedisLiveness",
    "RedisReplayCache",
    "RedisSecrets",
    "RedisSessionStore",
    "RedisTaskStore",
]
