"""The load generator's ceiling: a stdlib asyncio HTTP/1.1 server with no ASGI, no parsing
beyond finding each request's end, answering every request with the floor's fixed JSON body.

    python http_floor_raw.py --port 8000

Whatever calls/s the load generator reaches against it is the most it can measure here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import cast

__all__ = ["RawFloor", "main"]

BODY = (
    b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}],'
    b'"isError":false}}'
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(BODY)
) + BODY


class RawFloor(asyncio.Protocol):
    """Answer each complete request (headers plus content-length bytes) with RESPONSE."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            length = 0
            if at >= 0:
                line_end = head.find(b"\r\n", at)
                length = int(head[at + 15 : line_end if line_end >= 0 else len(head)])
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(RESPONSE * answers)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RawFloor, "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve(args.port))
    else:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
