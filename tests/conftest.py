"""Test support: mcpkit's own pytest plugin runs the `async def` tests (each in a fresh event
loop, bounded at 30 s: the plugin's default), pytester tests the plugin itself, and
`redis_server` is a real redis-server for the tests of the Redis stores and deployments."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent

# Every property test is judged by what it finds, never by how fast this machine drew its
# inputs: with the machine busy, one draw took 1.4 s and `too_slow` failed a test that found
# nothing wrong. A test's own `@settings` still sets its example count.
settings.register_profile("mcpkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mcpkit")
if str(HERE) not in sys.path:  # `_redis_server` by name, however pytest imports a directory
    sys.path.insert(0, str(HERE))

from _redis_server import (  # noqa: E402
    RedisServer,
    missing,
    redis_server_running,
    server_binary,
)


def _plugin_comes_from_the_entry_point() -> bool:
    """Whether pytest already loads mcpkit's plugin (an install that declares `pytest11`);
    loading it twice under two names is an error."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(
        ep.value == "mcpkit.testing._pytest"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


pytest_plugins = ["pytester"]
if not _plugin_comes_from_the_entry_point():
    pytest_plugins.append("mcpkit.testing._pytest")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for the whole run (each test keeps to keys of its own prefix, or its
    own database). Missing, it fails the tests that need it: never a skip, since a Redis
    store nobody tested would pass CI."""
    if shutil.which(server_binary()) is None:
        pytest.fail(missing(), pytrace=False)
    with redis_server_running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(autouse=True)
def _request_ids_as_found() -> Iterator[None]:
    """A shared broker names this process in its request ids (`set_request_id_prefix`); what
    one test's broker set must not change the ids the next test's sessions send."""
    from mcpkit.protocol.ids import process_request_ids, set_request_id_prefix

    prefix = process_request_ids().prefix
    yield
    set_request_id_prefix(prefix)
