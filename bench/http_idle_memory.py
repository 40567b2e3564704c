"""What an idle Streamable HTTP session holds: open sessions on mcpkit's app in-process (ASGI
calls, no sockets), and print the tracemalloc difference by line, and the live objects by type.

    bench/.venv-http/bin/python bench/http_idle_memory.py [--sessions 2000] [--top 25]

The resident-memory figure of `bench/run --only http` says how much; this says where.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["main"]

SERVERS = Path(__file__).resolve().parent / "servers"
INITIALIZE = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"idle","version":"1"}}}'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'


async def post(app: Any, body: bytes, session: bytes | None) -> list[dict[str, Any]]:
    """One POST through the ASGI app; the messages it sent back."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2025-11-25"),
        (b"content-length", str(len(body)).encode()),
    ]
    if session is not None:
        headers.append((b"mcp-session-id", session))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    done.set()
    return sent


async def open_session(app: Any) -> None:
    sent = await post(app, INITIALIZE, None)
    session = dict(sent[0]["headers"])[b"mcp-session-id"]
    await post(app, INITIALIZED, session)


async def run(sessions: int, top: int) -> None:
    sys.path.insert(0, str(SERVERS))
    from mcpkit_server_async import server

    # Every session comes from one address: lift the per-address cap (1,000 by default),
    # or sessions past it would end the oldest and the figure would count evictions.
    app = server.http_app(max_sessions_per_address=max(10_000, sessions * 2))
    lifespan_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan_in.get, lifespan_out.put)
    )
    await lifespan_in.put({"type": "lifespan.startup"})
    await asyncio.wait_for(lifespan_out.get(), 10)
    for _ in range(100):
        await open_session(app)
    gc.collect()
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    types_before = Counter(type(o).__name__ for o in gc.get_objects())
    for _ in range(sessions):
        await open_session(app)
    gc.collect()
    after = tracemalloc.take_snapshot()
    types_after = Counter(type(o).__name__ for o in gc.get_objects())
    diff = after.compare_to(before, "lineno")
    total = sum(d.size_diff for d in diff)
    print(f"{total / sessions / 1024:.2f} KiB per session traced (Python allocations only)\n")
    for d in diff[:top]:
        print(f"{d.size_diff / sessions:8.0f} B/session  {d.traceback[0]}")
    print("\nlive objects per session, by type (gc-tracked only):")
    grown = (types_after - types_before).most_common(top)
    for name, count in grown:
        print(f"{count / sessions:6.2f}  {name}")
    await lifespan_in.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, 10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(run(args.sessions, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
