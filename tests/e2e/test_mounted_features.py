"""Mounted servers pass the same end-to-end feature tests as a plain server: the tests of
test_tools, test_resources_prompts and test_session_features run again, each server they
build mounted (without a namespace, so their names and URIs hold) in a parent that the
client talks to, over the in-memory pair and over Streamable HTTP. Every request then takes
the mount's routing: the parent finds the item among its mounted ones and hands the request
to the server under test with its own Context."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import types
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP helpers

import test_resources_prompts
import test_session_features
import test_tools
from _serving import serving

from mcpkit import Client, Server

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


MODULES = (test_tools, test_resources_prompts, test_session_features)

# Tests that drive the in-memory pair itself: `Client(...).connect()` by hand, or a lifespan
# that fails the in-memory session (over HTTP, uvicorn refuses to start instead).
MEMORY_ONLY = {
    "test_requests_after_close_fail_at_once",
    "test_a_server_whose_lifespan_fails_fails_the_client_at_once",
}


def parent_of(server: Server) -> Server:
    """The server the client talks to: a parent with `server`'s identity and settings that
    mounts it, made once per server."""
    if server.mounted_in is not None:
        return server.mounted_in.parent
    info = server.info
    parent = Server(
        info.name,
        info.version,
        title=info.title,
        description=info.description,
        website_url=info.website_url,
        icons=info.icons,
        instructions=server.instructions,
        features=server.features,
        page_size=server.page_size,
        request_timeout=server.request_timeout,
        max_message_size=server.max_message_size,
        max_json_depth=server.max_json_depth,
        max_inflight=server.max_inflight,
        send_high_water=server.send_high_water,
    )
    parent.mount(server)
    return parent


def _memory_client(target: Any, **options: Any) -> Client:
    return Client(parent_of(target) if isinstance(target, Server) else target, **options)


class _HttpClient:
    """`Client(server)` for the tests, served over Streamable HTTP by uvicorn."""

    def __init__(self, target: Server, **options: Any) -> None:
        self.parent = parent_of(target)
        self.options = options
        self.stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Client:
        base = await self.stack.enter_async_context(serving(self.parent.http_app()))
        return await self.stack.enter_async_context(Client(base + "/mcp", **self.options))

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()


def _feature_tests(skip: set[str]) -> list[Any]:
    found = []
    for module in MODULES:
        for name, fn in vars(module).items():
            if not name.startswith("test_") or not inspect.iscoroutinefunction(fn):
                continue
            if inspect.signature(fn).parameters or name in skip:
                continue  # those with fixtures build their own worlds
            found.append(pytest.param(module, name, id=f"{module.__name__}.{name}"))
    return found


async def _run(
    monkeypatch: pytest.MonkeyPatch, module: types.ModuleType, name: str, client: Any
) -> None:
    monkeypatch.setattr(module, "Client", client)
    test: Callable[[], Coroutine[Any, Any, None]] = getattr(module, name)
    await test()


@pytest.mark.parametrize(("module", "name"), _feature_tests(set()))
async def test_mounted_over_memory(
    monkeypatch: pytest.MonkeyPatch, module: types.ModuleType, name: str
) -> None:
    await _run(monkeypatch, module, name, _memory_client)


@pytest.mark.parametrize(("module", "name"), _feature_tests(MEMORY_ONLY))
async def test_mounted_over_http(
    monkeypatch: pytest.MonkeyPatch, module: types.ModuleType, name: str
) -> None:
    await _run(monkeypatch, module, name, _HttpClient)
