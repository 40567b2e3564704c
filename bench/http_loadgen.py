"""Load generator for Streamable HTTP: lean HTTP/1.1 keep-alive clients over raw asyncio sockets,
with no HTTP or MCP library, so it favours no server and costs little per call.

    python bench/http_loadgen.py --port 8000 --pid 1234 [--sessions 16] [--duration 2] [--json]
    python bench/http_loadgen.py --port 8000 --pid 1234 --idle 2000   # idle session memory

Load: `--sessions` connections, one MCP session each (POST initialize, POST
notifications/initialized), then `tools/call echo` in a loop, one call at a time per session,
for `--warmup` seconds untimed and `--duration` seconds timed. With `--era 2026-07-28` there
is no handshake: each call carries its terms in `_meta` and the Mcp-Method/Mcp-Name headers,
as a 2026-07-28 client sends it. Answers may be JSON or SSE
(chunked or not); the last `data:` line of an SSE answer is the response. `--floor` skips the
handshake and the id checks (for servers that answer a fixed body).

Idle: open `--idle` sessions (initialize + initialized, nothing else) over a few connections,
and report the server's resident memory before and after, per session.

CPU and memory are those of the server process `--pid` and all its descendants (granian runs
its app in a child process), from /proc. A just-started server has 30 seconds to accept
connections (`MCPKIT_BENCH_CONNECT_WITHIN=120` gives it more).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import msgspec

__all__ = ["Connection", "HttpError", "main"]

PROTOCOL_VERSION = "2025-11-25"
ECHO_BODY = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"}}}'
)
INITIALIZE = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'
    + PROTOCOL_VERSION.encode()
    + b'","capabilities":{},"clientInfo":{"name":"bench-http-loadgen","version":"1.0.0"}}}'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
MODERN_VERSION = "2026-07-28"
#: The terms a 2026-07-28 request carries in its `_meta`.
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "bench-http-loadgen", "version": "1.0.0"},
}
MODERN_ECHO_BODY = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"},"_meta":'
    + json.dumps(MODERN_META, separators=(",", ":")).encode()
    + b"}}"
)
#: Seconds for a freshly started server to accept connections; MCPKIT_BENCH_CONNECT_WITHIN
#: overrides it (a server under valgrind on a loaded machine can take longer to come up).
CONNECT_WITHIN = float(os.environ.get("MCPKIT_BENCH_CONNECT_WITHIN", "30"))


class HttpError(Exception):
    """The server under test answered something the benchmark cannot use."""


class _Reply(msgspec.Struct):
    id: int | str | None = None
    error: msgspec.Raw = msgspec.Raw()


_decode_reply = msgspec.json.Decoder(_Reply).decode


# ------------------------------------------------------------------------------ the connection


@dataclass
class Response:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, with an incremental parser
    for content-length and chunked bodies."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.head: tuple[int, dict[bytes, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or HttpError("the server closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def request(self, data: bytes) -> asyncio.Future[Response]:
        assert self.transport is not None
        if self.lost is not None:
            raise HttpError(f"connection lost: {self.lost}")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            response = self._parse()
        except (ValueError, HttpError) as exc:
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(HttpError(f"unparsable response: {exc}"))
            return
        if response is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(response)

    def _parse(self) -> Response | None:
        buf = self.buffer
        if self.head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            lines = bytes(buf[:end]).split(b"\r\n")
            del buf[: end + 4]
            headers: dict[bytes, bytes] = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            self.head = (int(lines[0].split(b" ", 2)[1]), headers)
            self.chunks = []
        status, headers = self.head
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            if not self._take_chunks():
                return None
            body = b"".join(self.chunks)
        else:
            length = int(headers.get(b"content-length", b"0"))
            if len(buf) < length:
                return None
            body = bytes(buf[:length])
            del buf[:length]
        self.head = None
        return Response(status, headers, body)

    def _take_chunks(self) -> bool:
        """Move complete chunks from the buffer to `chunks`; True at the last chunk."""
        buf = self.buffer
        while True:
            line_end = buf.find(b"\r\n")
            if line_end < 0:
                return False
            size = int(bytes(buf[:line_end]).split(b";", 1)[0], 16)
            if size == 0:
                if len(buf) < line_end + 4:  # no trailers: "0\r\n\r\n"
                    return False
                del buf[: line_end + 4]
                return True
            if len(buf) < line_end + 2 + size + 2:
                return False
            self.chunks.append(bytes(buf[line_end + 2 : line_end + 2 + size]))
            del buf[: line_end + 2 + size + 2]


async def connect(port: int, factory: Callable[[], Connection] = Connection) -> Connection:
    """A connection to 127.0.0.1:port, retrying while a just-started server comes up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_WITHIN
    while True:
        try:
            _, conn = await loop.create_connection(factory, "127.0.0.1", port)
            return conn
        except OSError:
            if loop.time() > deadline:
                raise HttpError(f"nothing accepts connections on port {port}") from None
            await asyncio.sleep(0.05)  # polling a port that is not open yet: no event to wait on


# ------------------------------------------------------------------------------ MCP over HTTP


def post(
    port: int,
    body: bytes,
    session: bytes | None,
    era: str = PROTOCOL_VERSION,
    method: bytes = b"tools/call",
    name: bytes | None = b"echo",
) -> bytes:
    """The bytes of one POST to /mcp; a 2026-07-28 one names its `method` (and the tool's
    `name`) in the Mcp-Method (and Mcp-Name) header."""
    head = (
        b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:%d\r\ncontent-type: application/json\r\n"
        b"accept: application/json, text/event-stream\r\nmcp-protocol-version: %s\r\n"
        % (port, era.encode())
    )
    if era == MODERN_VERSION:
        head += b"mcp-method: " + method + b"\r\n"
        if name is not None:
            head += b"mcp-name: " + name + b"\r\n"
    if session is not None:
        head += b"mcp-session-id: " + session + b"\r\n"
    return head + b"content-length: %d\r\n\r\n" % len(body) + body


def last_message(response: Response) -> bytes:
    """The JSON-RPC message an answer ends with: the body, or the last SSE data line."""
    if response.status != 200:
        raise HttpError(f"status {response.status}: {response.body[:300]!r}")
    body = response.body
    if not response.headers.get(b"content-type", b"").startswith(b"text/event-stream"):
        return body
    at = body.rfind(b"data:")
    if at < 0:
        raise HttpError(f"an SSE answer without data: {body[:300]!r}")
    return body[at + 5 : body.find(b"\n", at) if body.find(b"\n", at) >= 0 else len(body)].strip()


async def open_session(conn: Connection, port: int) -> bytes:
    """initialize and notifications/initialized: the session id."""
    response = await conn.request(post(port, INITIALIZE, None))
    reply = _decode_reply(last_message(response))
    if reply.error or reply.id != 0:
        raise HttpError(f"initialize failed: {response.body[:300]!r}")
    session = response.headers.get(b"mcp-session-id")
    if session is None:
        raise HttpError("the initialize answer has no Mcp-Session-Id")
    done = await conn.request(post(port, INITIALIZED, session))
    if done.status != 202:
        raise HttpError(f"notifications/initialized got {done.status}, not 202")
    return session


# ---------------------------------------------------------------------------- process sampling

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (all threads' children), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    todo += [int(child) for child in f.read().split()]
            except OSError:
                continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    total = 0
    for each in process_tree(pid):
        try:
            with open(f"/proc/{each}/stat", "rb") as f:
                fields = f.read().rpartition(b")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLK_TCK


def tree_rss_kib(pid: int) -> int:
    total = 0
    for each in process_tree(pid):
        try:
            with open(f"/proc/{each}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


# ---------------------------------------------------------------------------------- the load


@dataclass
class LoadResult:
    sessions: int
    calls: int
    seconds: float
    calls_per_s: float
    p50_us: float
    p99_us: float
    server_cpu_us_per_call: float | None
    loadgen_cpu_us_per_call: float  # the generator's own cost, to show it is not the limit
    all_calls: int  # warm-up included: what a profile of the server saw


class Load:
    """Shared state of the sessions: the timed window and the latencies inside it."""

    def __init__(self) -> None:
        self.start_ns = 1 << 62  # no call is timed before the window opens
        self.stop = False
        self.latencies: list[int] = []
        self.ids = 1


async def call_loop(
    conn: Connection,
    port: int,
    session: bytes | None,
    load: Load,
    era: str = PROTOCOL_VERSION,
    check: bool = True,
) -> None:
    """Call echo one at a time until `load.stop`; record the calls that began in the window."""
    head = (
        post(port, b"", session, era).rpartition(b"content-length:")[0]
        + b"content-length: %d\r\n\r\n"
    )
    template = MODERN_ECHO_BODY if era == MODERN_VERSION else ECHO_BODY
    now = time.perf_counter_ns
    while not load.stop:
        rid = load.ids
        load.ids += 1
        body = template % rid
        sent = now()
        response = await conn.request(head % len(body) + body)
        done = now()
        if check:
            reply = _decode_reply(last_message(response))
            if reply.error or reply.id != rid:
                raise HttpError(f"echo failed: {response.body[:300]!r}")
        elif response.status != 200:
            raise HttpError(f"status {response.status}")
        if sent >= load.start_ns and not load.stop:
            load.latencies.append(done - sent)


async def run_load(args: argparse.Namespace) -> LoadResult:
    conns = [await connect(args.port) for _ in range(args.sessions)]
    handshake = not args.floor and args.era != MODERN_VERSION
    sessions = [await open_session(c, args.port) if handshake else None for c in conns]
    load = Load()
    tasks = [
        asyncio.create_task(call_loop(c, args.port, s, load, args.era, not args.floor))
        for c, s in zip(conns, sessions, strict=True)
    ]
    try:
        # The load runs the whole time; these waits only mark the window's edges.
        await asyncio.wait(tasks, timeout=args.warmup, return_when=asyncio.FIRST_EXCEPTION)
        cpu0, own0 = tree_cpu_seconds(args.pid), time.process_time()
        load.start_ns = time.perf_counter_ns()
        await asyncio.wait(tasks, timeout=args.duration, return_when=asyncio.FIRST_EXCEPTION)
        load.stop = True
        end_ns = time.perf_counter_ns()
        cpu1, own1 = tree_cpu_seconds(args.pid), time.process_time()
        async with asyncio.timeout(30):
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for conn in conns:
            if conn.transport is not None:
                conn.transport.close()
    calls = len(load.latencies)
    if not calls:
        raise HttpError("no call completed in the timed window")
    seconds = (end_ns - load.start_ns) / 1e9
    lat = sorted(load.latencies)
    return LoadResult(
        sessions=args.sessions,
        calls=calls,
        seconds=seconds,
        calls_per_s=calls / seconds,
        p50_us=lat[len(lat) // 2] / 1e3,
        p99_us=lat[min(len(lat) - 1, int(0.99 * len(lat)))] / 1e3,
        server_cpu_us_per_call=(cpu1 - cpu0) / calls * 1e6,
        loadgen_cpu_us_per_call=(own1 - own0) / calls * 1e6,
        all_calls=load.ids - 1,
    )


# ---------------------------------------------------------------------------- idle sessions


@dataclass
class IdleResult:
    sessions: int
    rss_before_kib: int
    rss_after_kib: int
    kib_per_session: float


async def run_idle(args: argparse.Namespace) -> IdleResult:
    conns = [await connect(args.port) for _ in range(args.connections)]

    async def open_many(conn: Connection, count: int) -> None:
        for _ in range(count):
            await open_session(conn, args.port)

    try:
        # A first few sessions load the code paths and the allocator's first arenas.
        await asyncio.gather(*(open_many(c, args.idle_warmup // len(conns) + 1) for c in conns))
        before = tree_rss_kib(args.pid)
        share, extra = divmod(args.idle, len(conns))
        await asyncio.gather(
            *(open_many(c, share + (i < extra)) for i, c in enumerate(conns)),
        )
        after = tree_rss_kib(args.pid)
    finally:
        for conn in conns:
            if conn.transport is not None:
                conn.transport.close()
    return IdleResult(args.idle, before, after, (after - before) / args.idle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server process to sample")
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--duration", type=float, default=2.0, help="timed seconds")
    parser.add_argument("--warmup", type=float, default=0.5, help="untimed seconds first")
    parser.add_argument("--floor", action="store_true", help="no handshake, no id checks")
    parser.add_argument(
        "--era",
        choices=[PROTOCOL_VERSION, MODERN_VERSION],
        default=PROTOCOL_VERSION,
        help="2026-07-28: no session, each call carries its terms",
    )
    parser.add_argument("--idle", type=int, default=0, help="measure this many idle sessions")
    parser.add_argument("--idle-warmup", type=int, default=100)
    parser.add_argument("--connections", type=int, default=8, help="for --idle")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    work = run_idle(args) if args.idle else run_load(args)
    try:
        if args.loop == "uvloop":
            import uvloop

            result: Any = uvloop.run(work)
        else:
            result = asyncio.run(work)
    except (HttpError, OSError, TimeoutError) as exc:
        print(f"http_loadgen: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(result)) if args.json else result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
