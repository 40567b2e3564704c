"""The client end of stdio against real subprocesses (peers/raw_peer.py), every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from mcpkit.errors import ConnectionClosed, TransportError
from mcpkit.transports.stdio_client import (
    StdioClientChannel,
    StdioParameters,
    default_environment,
    open_stdio_client_channel,
)

RAW_PEER = str(Path(__file__).parent / "peers" / "raw_peer.py")
WAIT = 10.0  # seconds: a bound on hangs, not a performance assertion


@contextlib.asynccontextmanager
async def peer(*args: str, **options: Any) -> AsyncIterator[StdioClientChannel]:
    params = StdioParameters(sys.executable, [RAW_PEER, *args], **options)
    channel = await open_stdio_client_channel(params)
    try:
        yield channel
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()


async def receive(channel: StdioClientChannel) -> bytes:
    async with asyncio.timeout(WAIT):
        return await channel.receive()


def message(n: int, pad: str = "") -> bytes:
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "method": "notifications/x", "params": {"n": n, "pad": pad}}
    )


async def test_echo_round_trip() -> None:
    async with peer("echo") as channel:
        for n in range(3):
            await channel.send(message(n))
            assert await receive(channel) == message(n)


async def test_a_one_mebibyte_message_round_trip() -> None:
    big = message(1, "x" * (1024 * 1024))
    async with peer("echo") as channel:
        async with asyncio.timeout(WAIT):
            await channel.send(big)
        assert await receive(channel) == big


async def test_many_messages_pipelined() -> None:
    count = 5000
    async with peer("echo") as channel:

        async def send_all() -> None:
            for n in range(count):
                await channel.send(message(n))

        sender = asyncio.ensure_future(send_all())
        try:
            for n in range(count):
                assert await receive(channel) == message(n)
        finally:
            async with asyncio.timeout(WAIT):
                await sender


@pytest.mark.parametrize("size", [5_000, 300_000])
async def test_an_oversize_line_is_cut_and_the_next_message_arrives(size: int) -> None:
    async with peer("oversize", str(size), max_message_size=1000) as channel:
        first = await receive(channel)
        assert len(first) == 1001
        assert first.startswith(b'{"pad":"xxx')
        assert await receive(channel) == b'{"after":1}'


async def test_blank_lines_are_skipped() -> None:
    async with peer("blank") as channel:
        assert await receive(channel) == b'{"a":1}'
        assert msgspec.json.decode(await receive(channel)) == {"b": 2}


async def test_eof_ends_the_channel_after_the_last_line() -> None:
    async with peer("nonewline") as channel:
        assert await receive(channel) == b'{"first":1}'
        assert await receive(channel) == b'{"last":1}'
        with pytest.raises(ConnectionClosed, match="exited with code 0"):
            await receive(channel)
        with pytest.raises(ConnectionClosed, match="exited with code 0"):
            await receive(channel)  # and stays ended
        assert channel.returncode == 0


async def test_the_error_quotes_the_exit_code_and_the_stderr_tail() -> None:
    async with peer("crash", "3", stderr="capture") as channel:
        await channel.send(message(1))
        with pytest.raises(ConnectionClosed) as caught:
            await receive(channel)
        text = str(caught.value)
        assert "exited with code 3" in text
        assert "crash log line 29" in text
        assert "crash log line 9\n" not in text  # only the last 20 lines are kept
        assert channel.returncode == 3
        tail = channel.stderr_tail().splitlines()
        assert len(tail) == 20 and tail[-1] == "crash log line 29"


async def test_sending_to_an_exited_server_raises_connection_closed() -> None:
    async with peer("crash", "4") as channel:
        await channel.send(message(1))
        async with asyncio.timeout(WAIT):
            assert await channel.process.wait() == 4
        with pytest.raises(ConnectionClosed, match="exited with code 4"):
            for n in range(100):  # the first write after the exit may still land
                await channel.send(message(n))


async def test_aclose_kills_a_server_that_ignores_stdin_close_and_sigterm() -> None:
    async with peer("stubborn", close_timeout=0.2, terminate_timeout=0.2) as channel:
        assert await receive(channel) == b'{"ready":1}'
    assert channel.returncode == -signal.SIGKILL
    with pytest.raises(ConnectionClosed, match="closed"):
        await channel.receive()
    with pytest.raises(ConnectionClosed, match="closed"):
        await channel.send(message(1))


async def test_a_cancelled_aclose_still_reaps_the_process_before_it_ends() -> None:
    # A deadline or a task group may cancel the close while it waits for the server to exit.
    # The process is killed all the same and reaped before the cancellation goes on: left to
    # the loop, a process that exits after its loop closed is never reaped (asyncio logs
    # "Loop ... that handles pid ... is closed", and Popen warns it "is still running").
    channel = await open_stdio_client_channel(
        StdioParameters(sys.executable, [RAW_PEER, "stubborn"], close_timeout=WAIT)
    )
    assert await receive(channel) == b'{"ready":1}'
    closing = asyncio.ensure_future(channel.aclose())
    await asyncio.sleep(0.05)  # (waiting for the exit that closing stdin asks for)
    assert not closing.done()
    closing.cancel()
    async with asyncio.timeout(WAIT):
        with pytest.raises(asyncio.CancelledError):
            await closing
    assert channel.returncode == -signal.SIGKILL
    assert channel.process.returncode == -signal.SIGKILL


async def test_aclose_of_a_well_behaved_server_just_closes_stdin() -> None:
    async with peer("silent") as channel:
        pass
    assert channel.returncode == 0


async def test_aclose_is_idempotent_and_concurrent_callers_all_wait() -> None:
    channel = await open_stdio_client_channel(StdioParameters(sys.executable, [RAW_PEER, "silent"]))
    async with asyncio.timeout(WAIT):
        await asyncio.gather(channel.aclose(), channel.aclose())
        await channel.aclose()
    assert channel.returncode == 0


async def test_a_pending_receive_ends_when_the_channel_is_closed() -> None:
    async with peer("silent") as channel:
        pending = asyncio.ensure_future(channel.receive())
        await asyncio.sleep(0)
        async with asyncio.timeout(WAIT):
            await channel.aclose()
            with pytest.raises(ConnectionClosed, match="closed"):
                await pending


async def test_a_missing_command_is_a_clear_transport_error() -> None:
    params = StdioParameters("mcpkit-no-such-command-7f3a", ["x"])
    expected = "cannot start 'mcpkit-no-such-command-7f3a': not found"
    with pytest.raises(TransportError, match=expected):
        await open_stdio_client_channel(params)


async def test_a_missing_working_directory_is_named(tmp_path: Path) -> None:
    params = StdioParameters(sys.executable, [RAW_PEER, "silent"], cwd=tmp_path / "nope")
    with pytest.raises(TransportError, match="working directory"):
        await open_stdio_client_channel(params)


async def test_an_unknown_stderr_option_is_rejected() -> None:
    params = StdioParameters(sys.executable, [RAW_PEER, "silent"], stderr="loud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stderr"):
        await open_stdio_client_channel(params)


@pytest.mark.parametrize("stderr", ["devnull", "inherit"])
async def test_stderr_can_be_discarded_or_inherited(stderr: str) -> None:
    async with peer("crash", "0", stderr=stderr) as channel:
        await channel.send(message(1))
        with pytest.raises(ConnectionClosed, match="exited with code 0"):
            await receive(channel)
        assert "crash log line 29" in channel.stderr_tail()  # a tail is kept whatever the setting


async def test_stderr_can_go_to_a_file(tmp_path: Path) -> None:
    with open(tmp_path / "err.log", "wb") as log:
        async with peer("crash", "0", stderr=log) as channel:
            await channel.send(message(1))
            with pytest.raises(ConnectionClosed):
                await receive(channel)
    assert "crash log line 29" in (tmp_path / "err.log").read_text()


async def test_the_child_gets_the_default_environment_plus_additions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPKIT_TEST_PARENT_SECRET", "do-not-leak")
    async with peer("env", env={"MCPKIT_TEST_ADDED": "yes"}) as channel:
        env = msgspec.json.decode(await receive(channel))
    assert env["MCPKIT_TEST_ADDED"] == "yes"
    assert "MCPKIT_TEST_PARENT_SECRET" not in env
    assert env.get("PATH") == os.environ.get("PATH")


def test_default_environment_keeps_only_safe_names_and_skips_shell_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("SHELL", "() { :; }; echo pwned")
    monkeypatch.setenv("MCPKIT_TEST_PARENT_SECRET", "x")
    env = default_environment()
    if sys.platform != "win32":
        assert env["HOME"] == "/home/someone"
    assert "SHELL" not in env
    assert "MCPKIT_TEST_PARENT_SECRET" not in env


def test_parameters_are_frozen_with_sane_defaults() -> None:
    params = StdioParameters("server")
    assert params.args == () and params.env is None and params.stderr == "inherit"
    assert params.close_timeout > 0 and params.terminate_timeout > 0
    with pytest.raises(AttributeError):
        params.command = "other"  # type: ignore[misc]
