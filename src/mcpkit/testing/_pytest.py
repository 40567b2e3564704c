"""mcpkit's pytest plugin (entry point `pytest11: mcpkit`): runs `async def` tests, bounded
in time, with fixtures for a connected client, a raw JSON-RPC peer and a fake clock, and
has pytest rewrite the asserts of the store checks (`mcpkit.testing.stores`).

It stays out of the way of the other async plugins: a test marked `asyncio`, `anyio` or
`trio`, one that uses `anyio_backend`, and every test when pytest-asyncio runs in auto mode
or pytest-trio in trio mode, is left to them. Importing this module stays cheap (pytest
loads it in every run wherever mcpkit is installed): the client, the server and the fake
clock are imported only by a test that uses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, NoReturn

import pytest

__all__ = [
    "InLoop",
    "fake_clock",
    "mcp_client",
    "mcp_raw_peer",
    "mcp_server",
    "pytest_addoption",
    "pytest_configure",
    "pytest_pyfunc_call",
]

# The store checks (mcpkit.testing.stores) are plain asserts in a package pytest does not
# rewrite on its own: rewritten, a failing check shows the values it compared.
pytest.register_assert_rewrite("mcpkit.testing.stores")

DEFAULT_TIMEOUT = 30.0  # seconds; a bound on hangs, not a performance assertion
_OTHER_RUNNERS = ("asyncio", "anyio", "trio")


class InLoop:
    """A fixture value that must be opened inside the test's event loop: the plugin enters
    `open()` before the test runs and passes what it yields (a Client, a RawPeer)."""

    def __init__(self, name: str, open: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        self._name = name
        self.open = open

    def __getattr__(self, attribute: str) -> NoReturn:
        raise RuntimeError(
            f"the {self._name} fixture is opened by mcpkit's pytest plugin in the event loop of "
            f"an `async def` test it runs; this test is not one (it is a plain `def`, or is "
            f"marked for another async plugin): use `async with connected(server)` instead"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "mcpkit_timeout",
        f"seconds each async test may take (0: no bound; default {DEFAULT_TIMEOUT:g})",
        default=str(DEFAULT_TIMEOUT),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mcpkit_timeout(seconds): bound this async test (mcpkit's plugin; 0 for no bound)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn) or _claimed_elsewhere(pyfuncitem):
        return None
    wanted = inspect.signature(fn).parameters
    kwargs = {name: value for name, value in pyfuncitem.funcargs.items() if name in wanted}
    clock = pyfuncitem.funcargs.get("fake_clock")
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if isinstance(clock, asyncio.AbstractEventLoop):
        factory = lambda: clock  # noqa: E731  # the fixture made it; the runner closes it
    timeout = _timeout_of(pyfuncitem)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_bounded(_with_in_loop_fixtures(fn, kwargs), timeout))
    return True


def _claimed_elsewhere(item: pytest.Function) -> bool:
    if any(item.get_closest_marker(name) is not None for name in _OTHER_RUNNERS):
        return True
    if "anyio_backend" in item.fixturenames:
        return True
    config = item.config
    plugins = config.pluginmanager
    if plugins.hasplugin("asyncio") and _ini(config, "asyncio_mode") == "auto":
        return True
    return plugins.hasplugin("trio") and _ini(config, "trio_mode") in (True, "true", "True")


def _ini(config: pytest.Config, name: str) -> Any:
    try:
        return config.getini(name)
    except ValueError:  # the plugin that declares it is not installed
        return None


def _timeout_of(item: pytest.Function) -> float | None:
    marker = item.get_closest_marker("mcpkit_timeout")
    raw = (
        marker.args[0]
        if marker is not None and marker.args
        else _ini(item.config, "mcpkit_timeout")
    )
    try:
        seconds = float(raw if raw not in (None, "") else DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        raise pytest.UsageError(
            f"mcpkit_timeout must be a number of seconds, not {raw!r}"
        ) from None
    return seconds if seconds > 0 else None


async def _with_in_loop_fixtures(fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for name, value in kwargs.items():
            if isinstance(value, InLoop):
                kwargs[name] = await stack.enter_async_context(value.open())
        await fn(**kwargs)


async def _bounded(main: Any, timeout: float | None) -> None:
    """Run `main`, cancelled after `timeout` seconds of REAL time: a loop's own clock may be
    virtual (the fake clock), where a 30 s timer is no bound on a hang at all."""
    if timeout is None:
        await main
        return
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
            loop.call_soon_threadsafe(task.cancel)

    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    try:
        await main
    except asyncio.CancelledError:
        if not expired.is_set():
            raise
    finally:
        timer.cancel()
    if expired.is_set():  # failed here, outside the except: the cancellation is no news
        pytest.fail(
            f"the test took longer than {timeout:g} s (mcpkit_timeout; raise it with "
            "@pytest.mark.mcpkit_timeout(seconds) or the mcpkit_timeout ini option)",
            pytrace=False,
        )


# ------------------------------------------------------------------------ fixtures


@pytest.fixture
def mcp_server() -> NoReturn:
    """Override in your conftest.py: return the `mcpkit.Server` that `mcp_client` and
    `mcp_raw_peer` connect to."""
    raise pytest.UsageError(
        "mcp_client and mcp_raw_peer need the server to test: define a fixture named "
        "`mcp_server` that returns your mcpkit Server, e.g. in conftest.py:\n"
        "    @pytest.fixture\n    def mcp_server():\n        return server"
    )


def _require_our_runner(request: pytest.FixtureRequest, fixture: str) -> None:
    """These fixtures only work in tests this plugin runs: fail at once, saying why, rather
    than hand another plugin a value it cannot use (or a clock it never installs)."""
    node = request.node
    if not isinstance(node, pytest.Function):
        return
    if inspect.iscoroutinefunction(node.obj) and not _claimed_elsewhere(node):
        return
    raise pytest.UsageError(
        f"{node.name}: the {fixture} fixture works in `async def` tests that mcpkit's plugin "
        "runs, and this one is a plain `def` or is run by another async plugin (a marker for "
        "pytest-asyncio, anyio or trio, or pytest-asyncio's auto mode); use "
        "`async with connected(server)` or `run_with_fake_clock(...)` from mcpkit.testing"
    )


@pytest.fixture
def mcp_client(mcp_server: Any, request: pytest.FixtureRequest) -> InLoop:
    """A `Client` connected to `mcp_server` over the in-memory pair (closed after the test)."""
    _require_our_runner(request, "mcp_client")

    def open_client() -> AbstractAsyncContextManager[Any]:
        from mcpkit.testing._pair import connected

        return connected(mcp_server)

    return InLoop("mcp_client", open_client)


@pytest.fixture
def mcp_raw_peer(mcp_server: Any, request: pytest.FixtureRequest) -> InLoop:
    """A `RawPeer` speaking raw JSON-RPC to `mcp_server`, already initialized."""
    _require_our_runner(request, "mcp_raw_peer")

    def open_peer() -> AbstractAsyncContextManager[Any]:
        from mcpkit.testing._pair import raw_session

        return raw_session(mcp_server)

    return InLoop("mcp_raw_peer", open_peer)


@pytest.fixture
def fake_clock(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """Run this async test on a `FakeClockLoop`: timers fire at once, in virtual time. The
    value is the loop (`fake_clock.time()`, `fake_clock.advance(seconds)`)."""
    _require_our_runner(request, "fake_clock")
    from mcpkit.testing._clock import FakeClockLoop

    loop = FakeClockLoop()
    try:
        yield loop
    finally:
        if not loop.is_closed():
            loop.close()
