"""A client that writes 10,000 tool calls and reads none of the 10 KB answers does not grow
the server (it stops reading instead); once the client reads, every answer arrives exactly
once, each request's progress before its response."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import msgspec
import pytest

PEER = str(Path(__file__).parent / "peers" / "pressure_server.py")
CALLS = 10_000
ANSWER = 10_000  # bytes of text per answer
GROWTH_BOUND = 20 * 1024 * 1024  # bytes of RSS; measured ~2 MB (the brief allowed 50)
WAIT = 25.0  # seconds: a bound on hangs, not a performance assertion
PAUSE_WAIT = 10.0  # seconds the server has to fill its bound and stop reading


def line(message: object) -> bytes:
    return msgspec.json.encode(message) + b"\n"


def call(rid: int) -> bytes:
    return line(
        {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {
                "name": "big",
                "arguments": {"size": ANSWER},
                "_meta": {"progressToken": f"p{rid}"},
            },
        }
    )


HANDSHAKE = line(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "backpressure-test", "version": "0"},
        },
    }
) + line({"jsonrpc": "2.0", "method": "notifications/initialized"})


def rss(pid: int) -> int:
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/PID/status")


class Stderr:
    """Reads the server's stderr all along (so it never blocks on it); says when the
    runtime paused reading."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self.paused = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._pump(stream))

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.readline():
            text = chunk.decode(errors="replace")
            self.lines.append(text)
            if "reading paused" in text:
                self.paused.set()


async def read_answers(stdout: asyncio.StreamReader, ids: set[int]) -> dict[int, list[str]]:
    """Read until every id in `ids` is answered; return each id's messages, in order."""
    seen: dict[int, list[str]] = {}
    open_ids = set(ids)
    while open_ids:
        message = msgspec.json.decode(await stdout.readline())
        if message.get("method") == "notifications/progress":
            rid = int(message["params"]["progressToken"][1:])
            seen.setdefault(rid, []).append("progress")
            continue
        rid = message["id"]
        assert rid in open_ids, f"answer to {rid} arrived twice, or was never asked"
        assert message["result"]["content"][0]["text"] == "x" * ANSWER, message
        open_ids.discard(rid)
        seen.setdefault(rid, []).append("response")
    return seen


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc for RSS")
@pytest.mark.parametrize("uvloop", ["0", "1"])
async def test_a_client_that_stops_reading_does_not_grow_the_server(uvloop: str) -> None:
    if uvloop == "1":
        pass  # installed with mcpkit[dev]: a missing one fails, never skips
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        PEER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1024 * 1024,
        env={**os.environ, "MCPKIT_UVLOOP": uvloop},
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr = Stderr(proc.stderr)
    try:
        async with asyncio.timeout(WAIT):
            proc.stdin.write(HANDSHAKE + b"".join(call(rid) for rid in range(1, 101)))
            assert "result" in msgspec.json.decode(await proc.stdout.readline())
            await read_answers(proc.stdout, set(range(1, 101)))  # warm up the allocator
            baseline = rss(proc.pid)

            ids = set(range(1000, 1000 + CALLS))
            proc.stdin.write(b"".join(call(rid) for rid in sorted(ids)))  # buffered here
            try:
                await asyncio.wait_for(stderr.paused.wait(), PAUSE_WAIT)
            except TimeoutError:
                growth = rss(proc.pid) - baseline
                raise AssertionError(f"never paused; grew by {growth} bytes") from None
            growth = max(rss(proc.pid) for _ in range(5)) - baseline
            print(f"server RSS growth while its client does not read: {growth} bytes")
            assert growth < GROWTH_BOUND, f"the server grew by {growth} bytes"

            seen = await read_answers(proc.stdout, ids)
            assert all(seen[rid] == ["progress", "response"] for rid in ids)
            proc.stdin.write(line({"jsonrpc": "2.0", "id": "last", "method": "ping"}))
            assert msgspec.json.decode(await proc.stdout.readline())["id"] == "last"
            proc.stdin.close()
            assert await proc.wait() == 0, "".join(stderr.lines)
            await stderr.task
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr.task.cancel()
