"""Every key a `RedisKeyValueStore` script touches is one it declares in KEYS, and all of one
store's share a slot, as Redis asks of scripts and a Cluster needs: the store passes
`KeyValueChecks` through a client whose scripts fail on any key they were not given, and on
a one-node Redis Cluster, whose scripts (marked `#!lua`, which Redis 7 holds to the slot of
their keys) fail on keys of another slot."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from _redis_server import RedisServer, redis_server_running
from redis import Redis as SyncRedis
from redis.asyncio import BlockingConnectionPool, Redis
from redis.commands.core import AsyncScript
from redis.typing import ScriptTextT
from test_redis_stores import assert_every_key_expires, keys_of, new_prefix

from mcpkit.stores.kv import KeyValueStore
from mcpkit.stores.redis import RedisKeyValueStore
from mcpkit.testing.stores import KeyValueChecks

WAIT = 10.0  # seconds: a bound on hangs, not a measurement

# Commands the scripts may call, with the positions of their keys (all: every argument).
_ONE_KEY = [
    *("GET", "SET", "EXISTS", "PTTL", "PEXPIRE"),
    *("HGET", "HSET", "HDEL", "HGETALL", "HKEYS", "HINCRBY"),
    *("ZADD", "ZREM", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE"),
]
_CHECKED = (
    """
local declared = {}
for _, key in ipairs(KEYS) do
    declared[key] = true
end
local one_key = {}
for _, name in ipairs({"""
    + ", ".join(f"'{name}'" for name in _ONE_KEY)
    + """}) do
    one_key[name] = true
end
local function checked(command, ...)
    local name, args = string.upper(command), {...}
    local keys = {}
    if name == 'DEL' then
        keys = args
    elseif one_key[name] then
        keys = {args[1]}
    elseif name ~= 'TIME' then
        error('the check does not know the keys of ' .. name)
    end
    for _, key in ipairs(keys) do
        if not declared[key] then
            error('undeclared key ' .. key)
        end
    end
    return redis.call(command, ...)
end
"""
)


class _DeclaredOnly(Redis):
    """A client whose scripts fail on a key they were not given in KEYS; marked `#!lua` (no
    flags), so that a Cluster also holds them to one slot."""

    def register_script(self, script: ScriptTextT) -> AsyncScript:
        text = script if isinstance(script, str) else bytes(script).decode()
        return super().register_script(
            "#!lua\n" + _CHECKED + text.replace("redis.call(", "checked(")
        )


def _connect(port: int) -> Redis:
    url = f"redis://127.0.0.1:{port}/0"
    pool = BlockingConnectionPool.from_url(url, max_connections=32, timeout=WAIT)
    return _DeclaredOnly.from_pool(pool)  # (the client closes the pool it is given)


class _Checked(KeyValueChecks):
    """The checks through `_DeclaredOnly` clients to the server `port`."""

    port: int
    opened: dict[int, tuple[Redis, str]]

    def _open(self, prefix: str, max_pool_bytes: int = 1 << 25) -> RedisKeyValueStore:
        client = _connect(self.port)
        kv = RedisKeyValueStore(client, prefix=prefix, max_pool_bytes=max_pool_bytes)
        self.opened[id(kv)] = (client, prefix)
        return kv

    async def make_kv(self) -> KeyValueStore:
        return self._open(new_prefix())

    async def make_pooled_kvs(self, max_pool_bytes: int) -> list[KeyValueStore]:
        prefix = new_prefix()
        return [self._open(prefix, max_pool_bytes), self._open(prefix, max_pool_bytes)]

    async def close_kv(self, kv: KeyValueStore) -> None:
        client, prefix = self.opened.pop(id(kv))
        try:
            await assert_every_key_expires(client, prefix)
            keys = await keys_of(client, prefix)
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


class TestEveryKeyDeclared(_Checked):
    @pytest.fixture(autouse=True)
    def _server(self, redis_server: RedisServer) -> None:
        self.port, self.opened = redis_server.port, {}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis Cluster of one node, which serves every slot."""
    flags = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
    with redis_server_running(tmp_path_factory.mktemp("cluster"), flags=flags) as server:
        client = SyncRedis(host="127.0.0.1", port=server.port)
        try:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + WAIT
            while b"cluster_state:ok" not in _cluster_info(client):
                assert time.monotonic() < deadline, "the one-node cluster never came up"
                time.sleep(0.02)
        finally:
            client.close()
        yield server


def _cluster_info(client: SyncRedis) -> bytes:
    info: object = client.execute_command("CLUSTER", "INFO")
    assert isinstance(info, bytes), info
    return info


class TestOneSlotInACluster(_Checked):
    @pytest.fixture(autouse=True)
    def _server(self, cluster: RedisServer) -> None:
        self.port, self.opened = cluster.port, {}


def test_the_cluster_refuses_what_the_store_must_not_do(cluster: RedisServer) -> None:
    # What the checks above rely on: a script of this cluster fails on a key of another
    # slot than its own, and a command on keys of two slots is refused.
    client = SyncRedis(host="127.0.0.1", port=cluster.port)
    try:
        with pytest.raises(Exception, match="hash to the same slot"):
            client.eval("#!lua\nreturn redis.call('GET', 'b')", 1, "a")
        with pytest.raises(Exception, match="hash to the same slot"):
            client.eval("return 1", 2, "a", "b")
    finally:
        client.close()
