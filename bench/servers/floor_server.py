"""The floor: a stdlib-only asyncio JSON-RPC server that answers initialize and tools/call echo.

No validation, no framework, one `json` decode and encode per message. It shows what a Python
asyncio stdio loop costs on this machine, so the other servers' figures have a reference point.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "floor", "version": "1.0.0"},
}


def answer(msg: dict[str, Any]) -> dict[str, Any] | None:
    if "id" not in msg:
        return None  # a notification
    method = msg.get("method")
    if method == "initialize":
        return {"jsonrpc": "2.0", "id": msg["id"], "result": INIT_RESULT}
    if method == "tools/call" and msg["params"]["name"] == "echo":
        text = msg["params"]["arguments"]["text"]
        result = {"content": [{"type": "text", "text": text}], "isError": False}
        return {"jsonrpc": "2.0", "id": msg["id"], "result": result}
    error = {"code": -32601, "message": f"method not found: {method}"}
    return {"jsonrpc": "2.0", "id": msg["id"], "error": error}


class EchoProtocol(asyncio.Protocol):
    """Answer every complete line as it arrives, all replies of one read in one write."""

    def __init__(self, out: asyncio.WriteTransport, done: asyncio.Future[None]) -> None:
        self.out = out
        self.done = done
        self.partial = b""

    def data_received(self, data: bytes) -> None:
        *lines, self.partial = (self.partial + data).split(b"\n")
        replies = [answer(json.loads(line)) for line in lines if line.strip()]
        encoded = [json.dumps(r, separators=(",", ":")).encode() for r in replies if r]
        if encoded:
            self.out.write(b"\n".join(encoded) + b"\n")

    def eof_received(self) -> None:
        self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def main() -> None:
    loop = asyncio.get_running_loop()
    out, _ = await loop.connect_write_pipe(asyncio.BaseProtocol, sys.stdout.buffer)
    done: asyncio.Future[None] = loop.create_future()
    stdin, _ = await loop.connect_read_pipe(lambda: EchoProtocol(out, done), sys.stdin.buffer)
    # asyncio reads 256 KiB at a time by default; a pipe holds 64 KiB, and the larger buffer
    # makes every read allocate and release fresh memory.
    stdin.max_size = 64 * 1024  # type: ignore[attr-defined]
    await done
    out.close()


if __name__ == "__main__":
    asyncio.run(main())
