"""mcpkit's pytest plugin: runs async tests bounded in real time, opens its fixtures in the
test's loop, explains misuse, and leaves tests marked for other async plugins alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
# The installed entry point's name: loaded with autoload off, a no-op when autoload loaded it.
PLUGIN = ["-p", "mcpkit", "-p", "no:cacheprovider"]

SERVER = """
import pytest
from mcpkit import Server

server = Server("under-test")

@server.tool()
def add(a: int, b: int) -> int:
    return a + b

@pytest.fixture
def mcp_server():
    return server
"""


@pytest.fixture
def only_mcpkit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.mark.usefixtures("only_mcpkit")
def test_async_tests_run_and_their_failures_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import asyncio

        async def test_passes():
            await asyncio.sleep(0)

        async def test_fails():
            assert 1 == 2

        class TestInAClass:
            async def test_method(self, tmp_path):
                assert tmp_path.exists()
    """)
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=2, failed=1)


@pytest.mark.usefixtures("only_mcpkit")
def test_the_bound_is_real_time_and_says_how_to_raise_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import asyncio
        import pytest

        @pytest.mark.mcpkit_timeout(0.2)
        async def test_hangs():
            await asyncio.Event().wait()

        @pytest.mark.mcpkit_timeout(0.2)
        async def test_hangs_on_the_fake_clock(fake_clock):
            await asyncio.Event().wait()       # no timer at all: virtual time cannot help

        async def test_its_own_timeout_error_is_its_own():
            async with asyncio.timeout(0):
                await asyncio.Event().wait()
    """)
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=3)
    # Each failure's own section says it (the summary may repeat it: in full when CI is set).
    result.stdout.fnmatch_lines(
        [
            "*_ test_hangs _*",
            "*the test took longer than 0.2 s*",
            "*_ test_hangs_on_the_fake_clock _*",
            "*the test took longer than 0.2 s*",
        ]
    )
    result.stdout.fnmatch_lines(["*_ test_its_own_timeout_error_is_its_own _*", "E*TimeoutError"])


@pytest.mark.usefixtures("only_mcpkit")
def test_fixtures_open_in_the_loop(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SERVER)
    pytester.makepyfile("""
        import asyncio

        async def test_client(mcp_client):
            assert (await mcp_client.call_tool("add", {"a": 1, "b": 2})).text == "3"

        async def test_raw_peer(mcp_raw_peer):
            assert (await mcp_raw_peer.request("ping"))["result"] == {}

        async def test_fake_clock(fake_clock):
            await asyncio.sleep(3600)
            assert fake_clock.time() >= 3600
    """)
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=3)


@pytest.mark.usefixtures("only_mcpkit")
def test_misuse_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_sync(mcp_server, mcp_client):
            mcp_client.call_tool
    """)
    pytester.makeconftest("""
        import pytest
        @pytest.fixture
        def mcp_server():
            return object()
    """)
    result = pytester.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*test_sync: the mcp_client fixture works in `async def` tests*"])
    assert result.ret != 0


@pytest.mark.usefixtures("only_mcpkit")
def test_a_missing_mcp_server_fixture_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        async def test_no_server(mcp_client):
            pass
    """)
    result = pytester.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*define a fixture named `mcp_server`*"])
    assert result.ret != 0


@pytest.mark.usefixtures("only_mcpkit")
def test_tests_marked_for_pytest_asyncio_are_left_to_it(pytester: pytest.Pytester) -> None:
    # pytest-asyncio is not installed: a test marked for it is not run by us either.
    pytester.makeini("[pytest]\nmarkers = asyncio\n")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.asyncio
        async def test_for_pytest_asyncio():
            raise AssertionError("mcpkit's plugin ran a test marked for pytest-asyncio")
    """)
    result = pytester.runpytest(*PLUGIN)
    assert "mcpkit's plugin ran" not in result.stdout.str()


def test_tests_for_anyio_are_left_to_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import asyncio
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        @pytest.mark.mcpkit_timeout(0.01)
        async def test_under_anyio():
            await asyncio.sleep(0.3)  # past mcpkit's bound: passes only if anyio runs it
    """)
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_loading_the_plugin_stays_cheap() -> None:
    # pytest loads it in every run wherever mcpkit is installed.
    code = (
        "import sys, mcpkit.testing._pytest; print(','.join(m for m in sys.modules if "
        "m.startswith(('mcpkit.server', 'mcpkit.client', 'mcpkit.runtime', 'msgspec'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout.strip()
    assert loaded == ""
