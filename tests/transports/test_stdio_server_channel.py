"""The server end of stdio: in-process over pipes and files, and in real subprocesses that
take over their own stdio (checking that stdout carries nothing but messages)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from mcpkit.errors import ConnectionClosed
from mcpkit.transports.stdio_client import StdioParameters, open_stdio_client_channel
from mcpkit.transports.stdio_server import StdioServerChannel, open_stdio_server_channel

PEERS = Path(__file__).parent / "peers"
WAIT = 10.0  # seconds: a bound on hangs, not a performance assertion


async def receive(channel: StdioServerChannel) -> bytes:
    async with asyncio.timeout(WAIT):
        return await channel.receive()


async def read_exactly(fd: int, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    data = b""
    async with asyncio.timeout(WAIT):
        while len(data) < size:
            chunk = await loop.run_in_executor(None, os.read, fd, size - len(data))
            if not chunk:
                break
            data += chunk
    return data


# ------------------------------------------------------------------ in process


async def test_over_os_pipes_in_process() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        channel = await open_stdio_server_channel(stdin=in_r, stdout=out_w)
    finally:
        os.close(in_r)  # the channel holds its own duplicates
        os.close(out_w)
    try:
        os.write(in_w, b'{"a":1}\n\n{"b":')
        assert await receive(channel) == b'{"a":1}'
        os.write(in_w, b"2}\n")
        assert await receive(channel) == b'{"b":2}'
        await channel.send(b'{"c":3}')
        assert await read_exactly(out_r, 8) == b'{"c":3}\n'
        os.close(in_w)
        in_w = -1
        with pytest.raises(ConnectionClosed, match="end of file"):
            await receive(channel)
        os.close(out_r)
        out_r = -1
        with pytest.raises(ConnectionClosed, match="stdout is closed"):
            for _ in range(100):  # the loss may be noticed on the write or just before it
                await channel.send(b'{"d":4}')
                await asyncio.sleep(0)
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()
            await channel.aclose()
        for fd in (in_w, out_r):
            if fd >= 0:
                os.close(fd)


async def test_a_large_message_to_a_slow_reader_waits_for_room() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    channel = await open_stdio_server_channel(stdin=in_r, stdout=out_w)
    os.close(in_r)
    os.close(out_w)
    big = b'{"pad":"' + b"x" * (1024 * 1024) + b'"}'
    try:
        sending = asyncio.ensure_future(channel.send(big))
        await asyncio.sleep(0)
        assert not sending.done()  # the pipe is full: send waits (backpressure)
        assert await read_exactly(out_r, len(big) + 1) == big + b"\n"
        async with asyncio.timeout(WAIT):
            await sending
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()
        os.close(in_w)
        os.close(out_r)


async def test_a_regular_file_as_stdin_and_a_file_object_as_stdout(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"a":1}\n\n' + b"y" * 5000 + b'\n{"b":2}\n{"c":3}')
    sink = io.BytesIO()
    with open(source, "rb") as stdin:
        channel = await open_stdio_server_channel(stdin=stdin, stdout=sink, max_message_size=100)
    try:
        assert await receive(channel) == b'{"a":1}'
        assert await receive(channel) == b"y" * 101
        assert await receive(channel) == b'{"b":2}'
        assert await receive(channel) == b'{"c":3}'
        with pytest.raises(ConnectionClosed, match="end of file"):
            await receive(channel)
        await channel.send(b'{"out":1}')
        await channel.send(b'{"out":2}')
        assert sink.getvalue() == b'{"out":1}\n{"out":2}\n'
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()
    with pytest.raises(ConnectionClosed):
        await channel.send(b"{}")


async def test_a_big_regular_file_is_read_through_with_flow_control(tmp_path: Path) -> None:
    lines = [msgspec.json.encode({"n": n, "pad": "p" * 500}) for n in range(8000)]  # ~4 MiB
    source = tmp_path / "big.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    with open(source, "rb") as stdin:
        channel = await open_stdio_server_channel(stdin=stdin, stdout=io.BytesIO())
    try:
        for line in lines:
            assert await receive(channel) == line
        with pytest.raises(ConnectionClosed, match="end of file"):
            await receive(channel)
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()


async def test_in_memory_streams_without_descriptors() -> None:
    sink = io.BytesIO()
    channel = await open_stdio_server_channel(stdin=io.BytesIO(b'{"a":1}\n'), stdout=sink)
    try:
        assert await receive(channel) == b'{"a":1}'
        await channel.send(b'{"b":2}')
        assert sink.getvalue() == b'{"b":2}\n'
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()
    with pytest.raises(ConnectionClosed, match="closed"):
        await channel.receive()


# --------------------------------------------------------- in a real subprocess


async def run_to_completion(*argv: str, stdin: bytes) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(WAIT):
            out, err = await process.communicate(stdin)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out, err


def assert_only_json_lines(out: bytes) -> list[dict[str, object]]:
    assert out.endswith(b"\n")
    messages = []
    for line in out.splitlines():
        value = msgspec.json.decode(line)
        assert isinstance(value, dict), line
        messages.append(value)
    return messages


async def test_prints_in_the_server_process_go_to_stderr_not_stdout() -> None:
    lines = [
        msgspec.json.encode({"jsonrpc": "2.0", "method": "x", "params": {"n": n}}) for n in range(5)
    ]
    code, out, err = await run_to_completion(
        sys.executable, str(PEERS / "raw_peer.py"), "print", stdin=b"\n".join(lines) + b"\n"
    )
    assert code == 0, err
    assert out == b"".join(line + b"\n" for line in lines)
    assert b"stray output from a tool" in err
    assert b"written to fd 1 directly" in err
    assert b"echo peer ready" in err


async def test_the_echo_peer_through_the_client_channel_sees_only_messages() -> None:
    params = StdioParameters(
        sys.executable, [str(PEERS / "raw_peer.py"), "print"], stderr="capture"
    )
    channel = await open_stdio_client_channel(params)
    try:
        for n in range(20):
            data = msgspec.json.encode({"n": n})
            await channel.send(data)
            async with asyncio.timeout(WAIT):
                assert await channel.receive() == data
    finally:
        async with asyncio.timeout(WAIT):
            await channel.aclose()
    assert channel.returncode == 0
    assert "stray output from a tool" in channel.stderr_tail()


async def test_a_real_server_with_a_printing_tool_writes_only_json_rpc_to_stdout() -> None:
    def request(rid: int, method: str, params: object) -> bytes:
        return (
            msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            + b"\n"
        )

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PEERS / "mcp_server.py"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    try:
        async with asyncio.timeout(WAIT):
            process.stdin.write(
                request(
                    1,
                    "initialize",
                    {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "t", "version": "0"},
                    },
                )
            )
            process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
            process.stdin.write(
                request(2, "tools/call", {"name": "noisy", "arguments": {"text": "hi"}})
            )
            process.stdin.write(
                request(3, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
            )
            await process.stdin.drain()
            out = b""
            answered: set[object] = set()
            while not {1, 2, 3} <= answered:
                line = await process.stdout.readline()
                assert line, "stdout ended early"
                out += line
                answered.add(msgspec.json.decode(line).get("id"))
            process.stdin.close()  # the client's way to end the session
            out += await process.stdout.read()
            err = await process.stderr.read()
            assert await process.wait() == 0, err
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    messages = assert_only_json_lines(out)
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    by_id = {m.get("id"): m for m in messages}
    assert "HI" in msgspec.json.encode(by_id[2]).decode()
    assert b"a stray print from a tool: hi" in err
    assert b"and a write to sys.stdout" in err
    assert b"and a write to fd 1" in err


async def test_a_process_hands_its_stdio_to_one_channel_only() -> None:
    code, out, err = await run_to_completion(
        sys.executable, str(PEERS / "raw_peer.py"), "twice", stdin=b""
    )
    assert code == 0, err
    assert assert_only_json_lines(out) == [
        {"error": "this process's stdio is already used by an mcpkit channel"}
    ]


class _GatedSink:
    """A file object without a descriptor whose `write` blocks (in the writer thread) until
    `gate` is set, and records what was written."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.gate = threading.Event()
        self.entered = asyncio.Event()
        self.writes: list[bytes] = []

    def fileno(self) -> int:
        raise OSError("no descriptor")

    def write(self, data: bytes) -> int:
        self.writes.append(bytes(data))
        self.loop.call_soon_threadsafe(self.entered.set)
        self.gate.wait(10)
        return len(data)

    def flush(self) -> None:
        pass


async def test_a_cancelled_blocking_write_keeps_the_next_behind_it() -> None:
    sink = _GatedSink(asyncio.get_running_loop())
    stdout: Any = sink  # duck-typed: what the channel uses of a binary file object
    channel = await open_stdio_server_channel(stdin=io.BytesIO(b""), stdout=stdout)
    try:
        first = asyncio.get_running_loop().create_task(channel.send(b'{"n":1}'))
        await asyncio.wait_for(sink.entered.wait(), 5)
        first.cancel()  # the thread goes on writing: its bytes are on their way
        second = asyncio.get_running_loop().create_task(channel.send(b'{"n":2}'))
        for _ in range(5):
            await asyncio.sleep(0)
        assert sink.writes == [b'{"n":1}\n'] and not second.done()
        sink.gate.set()
        await asyncio.wait_for(second, 5)
        assert sink.writes == [b'{"n":1}\n', b'{"n":2}\n']
    finally:
        sink.gate.set()
        await channel.aclose()
