"""A client that closes its end of the server's stdout but keeps stdin open ends the
session: the running tool is cancelled, the lifespan is left and the process exits, on the
standard loop and on uvloop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import msgspec
import pytest

PEER = str(Path(__file__).parent / "peers" / "pressure_server.py")
WAIT = 10.0  # seconds: a bound on hangs, not a performance assertion


def line(message: object) -> bytes:
    return msgspec.json.encode(message) + b"\n"


HANDSHAKE = line(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "broken-pipe-test", "version": "0"},
        },
    }
) + line({"jsonrpc": "2.0", "method": "notifications/initialized"})


async def read_until(stream: asyncio.StreamReader, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = await stream.readline()
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.parametrize("uvloop", ["0", "1"])
async def test_closing_our_end_of_its_stdout_ends_the_server(uvloop: str) -> None:
    if uvloop == "1":
        pass  # installed with mcpkit[dev]: a missing one fails, never skips
    read_end, write_end = os.pipe()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            PEER,
            stdin=asyncio.subprocess.PIPE,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "MCPKIT_UVLOOP": uvloop},
        )
    finally:
        os.close(write_end)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        async with asyncio.timeout(WAIT):
            proc.stdin.write(
                HANDSHAKE
                + line(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "tools/call",
                        "params": {"name": "block", "arguments": {}},
                    }
                )
            )
            await proc.stdin.drain()
            stderr = await read_until(proc.stderr, b"block: started")
            assert b"block: started" in stderr
            os.close(read_end)  # stdin stays open: only the broken pipe can tell
            read_end = -1
            stderr += await proc.stderr.read()
            code = await proc.wait()
    finally:
        if read_end >= 0:
            os.close(read_end)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = stderr.decode()
    assert "block: cancelled" in text, text
    assert "lifespan: left" in text, text
    assert code == 0, text
