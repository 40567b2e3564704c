"""Load generator: raw JSON-RPC 2.0 over stdio with no MCP library, so it favours no implementation.

It spawns a server command, performs the initialize handshake, checks the benchmark features,
then measures `tools/call echo` one request at a time and with N requests in flight. Wire I/O
sits behind `Transport` (send a batch of encoded messages; receive whatever complete messages
arrived), so a Streamable HTTP transport can be added beside `StdioTransport` later.

    python bench/loadgen.py [--duration 2] [--inflight 16] [--json] -- python server.py

The generator keeps its own cost low: requests are formatted from a byte template, a batch is
written with one `write`, replies are decoded only as far as `id` and `error`, and time is read
once per batch of replies.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

PROTOCOL_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
ECHO_TEMPLATE = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"}}}'
)
# The same call as a 2026-07-28 client sends it: no session, its terms in `_meta`.
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "bench-loadgen", "version": "1.0.0"},
}
MODERN_ECHO_TEMPLATE = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"},"_meta":'
    + json.dumps(MODERN_META, separators=(",", ":")).encode().replace(b"%", b"%%")
    + b"}}"
)
READ_CHUNK = 1 << 16  # a pipe holds 64 KiB; a larger buffer costs an mmap per read


class BenchError(Exception):
    """The server under test misbehaved (bad reply, early exit, timeout)."""


# ---------------------------------------------------------------------------- decoding replies


def _make_reply_decoder() -> Callable[[bytes], tuple[Any, bool]]:
    """Return `decode(line) -> (id or None, is_error)`; `id` is None for anything but a reply."""
    try:
        import msgspec
    except ImportError:

        def decode_stdlib(line: bytes) -> tuple[Any, bool]:
            msg = json.loads(line)
            if "method" in msg:
                return None, False
            return msg.get("id"), "error" in msg

        return decode_stdlib

    # Only `id`, `method` and `error` are looked at; `result` is skipped without being built.
    reply_type = msgspec.defstruct(
        "Reply",
        [
            ("id", int | str | None, None),
            ("method", str | None, None),
            ("error", msgspec.Raw, msgspec.Raw()),
        ],
    )
    decoder = msgspec.json.Decoder(reply_type)

    def decode_msgspec(line: bytes) -> tuple[Any, bool]:
        reply: Any = decoder.decode(line)
        if reply.method is not None:
            return None, False
        return reply.id, len(reply.error) > 0

    return decode_msgspec


decode_reply = _make_reply_decoder()


# ---------------------------------------------------------------------------------- transports


class Transport(Protocol):
    """How the generator reaches a server. Messages are encoded JSON-RPC objects (no framing)."""

    pid: int | None  # the server process to sample for CPU and memory, when there is one

    def send(self, messages: Sequence[bytes]) -> None: ...

    def receive(self, timeout: float) -> list[bytes]:
        """Return at least one complete message, waiting at most `timeout` seconds."""
        ...

    def describe_failure(self) -> str: ...

    def close(self) -> None: ...


class StdioTransport:
    """Spawn `command`; messages are newline-delimited JSON on its stdin and stdout."""

    def __init__(self, command: Sequence[str], env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            bufsize=0,
            env=env,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.pid: int | None = self.proc.pid
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN)
        self._partial = b""

    def send(self, messages: Sequence[bytes]) -> None:
        data = memoryview(b"\n".join(messages) + b"\n")
        try:
            while data:
                data = data[os.write(self._in, data) :]
        except BrokenPipeError:
            raise BenchError("server closed its stdin" + self.describe_failure()) from None

    def receive(self, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise BenchError(f"no reply within {timeout:.0f}s" + self.describe_failure())
            chunk = os.read(self._out, READ_CHUNK)
            if not chunk:
                raise BenchError("server closed its stdout" + self.describe_failure())
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            messages = [line for line in lines if line.strip()]
            if messages:
                return messages

    def describe_failure(self) -> str:
        code = self.proc.poll()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 2000))
        tail = self._stderr.read().decode(errors="replace").strip()
        status = "running" if code is None else f"exit status {code}"
        return f" (server {status}; stderr tail: {tail or '<empty>'})"

    def close(self) -> None:
        """Close stdin (the MCP way to end a stdio session), then escalate; always reap."""
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                stop()
            try:
                proc.wait(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
        else:  # pragma: no cover - SIGKILL did not take within the bound; still reap it
            proc.wait()
        proc.stdout.close()
        self._stderr.close()


# ---------------------------------------------------------------------------- process sampling

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of the whole process (all its threads) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime (fields 14 and 15)


def process_rss_mib(pid: int) -> float:
    """Resident set size from /proc/<pid>/status (VmRSS), in MiB."""
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for pid {pid}")


# ------------------------------------------------------------------------------- plain session


class Session:
    """Sequential JSON-RPC over a transport, fully decoded: for the handshake and checks."""

    def __init__(self, transport: Transport, timeout: float, stateless: bool = False) -> None:
        self.transport = transport
        self.timeout = timeout
        self.next_id = 1
        #: 2026-07-28: every request carries its terms, and there is no handshake.
        self.stateless = stateless

    def request(self, method: str, params: dict[str, Any]) -> Any:
        rid = self.next_id
        self.next_id += 1
        if self.stateless:
            params = {**params, "_meta": MODERN_META}
        msg = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        self.transport.send([json.dumps(msg).encode()])
        for _ in range(10_000):  # skip notifications and server requests, but not forever
            for line in self.transport.receive(self.timeout):
                reply = json.loads(line)
                if reply.get("id") != rid or "method" in reply:
                    continue
                if "error" in reply:
                    raise BenchError(f"{method} failed: {reply['error']}")
                return reply["result"]
        raise BenchError(f"no reply to {method} among 10000 messages")

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.transport.send([json.dumps(msg).encode()])

    def initialize(self) -> dict[str, Any]:
        if self.stateless:
            found: dict[str, Any] = self.request("server/discover", {})
            if MODERN_VERSION not in found.get("supportedVersions", []):
                raise BenchError(f"server/discover lists no {MODERN_VERSION}: {found}")
            return {"serverInfo": found.get("_meta", {}).get("io.modelcontextprotocol/serverInfo")}
        result: dict[str, Any] = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "bench-loadgen", "version": "1.0.0"},
            },
        )
        if result.get("protocolVersion") != PROTOCOL_VERSION:
            raise BenchError(f"server chose protocol {result.get('protocolVersion')!r}")
        return result

    def check_features(self) -> None:
        """The four things every benchmark server must expose, answered correctly."""
        names = {tool["name"] for tool in self.request("tools/list", {})["tools"]}
        _expect(names >= {"echo", "add"}, f"tools/list: {sorted(names)}")
        echo = self.request("tools/call", {"name": "echo", "arguments": {"text": "hi"}})
        _expect(echo["content"][0]["text"] == "hi" and not echo.get("isError"), f"echo: {echo}")
        add = self.request("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
        _expect(add.get("structuredContent") == {"result": 5}, f"add: {add}")
        res = self.request("resources/read", {"uri": "bench://info"})
        _expect(bool(res["contents"][0].get("text")), f"resources/read: {res}")
        prompt = self.request("prompts/get", {"name": "greet", "arguments": {"name": "Ada"}})
        _expect("Hello Ada" in json.dumps(prompt["messages"]), f"prompts/get: {prompt}")


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise BenchError(f"unexpected reply to {what}")


# ---------------------------------------------------------------------------------- the load


@dataclass
class LoadResult:
    inflight: int
    requests: int
    seconds: float
    requests_per_s: float
    p50_us: float
    p99_us: float
    server_cpu_us_per_request: float | None
    loadgen_cpu_us_per_request: float  # the generator's own cost, to show it is not the limit


def run_load(
    transport: Transport,
    *,
    inflight: int,
    duration: float,
    first_id: int,
    max_requests: int = 10_000_000,
    timeout: float = 10.0,
    template: bytes = ECHO_TEMPLATE,
) -> LoadResult:
    """Call echo for `duration` seconds keeping `inflight` requests outstanding."""
    pending: dict[int, int] = {}
    latencies: list[int] = []
    next_id = first_id
    stop_issuing = first_id + max_requests
    now_ns = time.perf_counter_ns
    cpu_start = process_cpu_seconds(transport.pid) if transport.pid else None
    own_start = time.process_time()
    start = now_ns()
    deadline = start + int(duration * 1e9)

    def issue(count: int, at: int) -> None:
        nonlocal next_id
        count = min(count, stop_issuing - next_id)
        if count <= 0:
            return
        ids = range(next_id, next_id + count)
        next_id += count
        for rid in ids:
            pending[rid] = at
        transport.send([template % rid for rid in ids])

    issue(inflight, now_ns())
    now = start
    while pending:
        batch = transport.receive(timeout)
        now = now_ns()
        answered = 0
        for line in batch:
            rid, failed = decode_reply(line)
            sent = pending.pop(rid, None) if rid is not None else None
            if sent is None:
                continue
            if failed:
                raise BenchError(f"echo failed: {line[:500]!r}")
            latencies.append(now - sent)
            answered += 1
        if now < deadline and answered:
            issue(answered, now_ns())
    elapsed = (now - start) / 1e9
    own = (time.process_time() - own_start) / len(latencies) * 1e6
    cpu = None
    if transport.pid and cpu_start is not None:
        cpu = (process_cpu_seconds(transport.pid) - cpu_start) / len(latencies) * 1e6
    latencies.sort()
    return LoadResult(
        inflight=inflight,
        requests=len(latencies),
        seconds=elapsed,
        requests_per_s=len(latencies) / elapsed,
        p50_us=_percentile(latencies, 0.50) / 1e3,
        p99_us=_percentile(latencies, 0.99) / 1e3,
        server_cpu_us_per_request=cpu,
        loadgen_cpu_us_per_request=own,
    )


def _percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


@dataclass
class StdioReport:
    command: list[str]
    server_info: dict[str, Any]
    spawn_to_initialize_ms: float
    rss_after_initialize_mib: float
    rss_after_load_mib: float
    sequential: LoadResult
    pipelined: LoadResult
    notes: list[str] = field(default_factory=list)


def bench_stdio(
    command: Sequence[str],
    *,
    duration: float = 2.0,
    inflight: int = 16,
    warmup: int = 200,
    check: bool = True,
    timeout: float = 30.0,
    revision: str = PROTOCOL_VERSION,
) -> StdioReport:
    """Spawn the server, time the handshake (2026-07-28: server/discover), check it, then
    measure both load shapes."""
    start = time.perf_counter()
    transport = StdioTransport(command)
    stateless = revision == MODERN_VERSION
    template = MODERN_ECHO_TEMPLATE if stateless else ECHO_TEMPLATE
    try:
        session = Session(transport, timeout, stateless)
        init = session.initialize()
        spawn_ms = (time.perf_counter() - start) * 1e3
        assert transport.pid is not None
        rss_init = process_rss_mib(transport.pid)
        if not stateless:
            session.notify("notifications/initialized")
        if check:
            session.check_features()
        first = 1_000
        run_load(
            transport,
            inflight=1,
            duration=60.0,
            first_id=first,
            max_requests=warmup,
            timeout=timeout,
            template=template,
        )
        first += warmup
        sequential = run_load(
            transport,
            inflight=1,
            duration=duration,
            first_id=first,
            timeout=timeout,
            template=template,
        )
        first += sequential.requests
        pipelined = run_load(
            transport,
            inflight=inflight,
            duration=duration,
            first_id=first,
            timeout=timeout,
            template=template,
        )
        rss_load = process_rss_mib(transport.pid)
        return StdioReport(
            command=list(command),
            server_info=init.get("serverInfo", {}),
            spawn_to_initialize_ms=spawn_ms,
            rss_after_initialize_mib=rss_init,
            rss_after_load_mib=rss_load,
            sequential=sequential,
            pipelined=pipelined,
        )
    finally:
        transport.close()


def _print_report(report: StdioReport) -> None:
    print(f"server: {report.server_info}  ({' '.join(report.command)})")
    print(f"spawn to initialize result: {report.spawn_to_initialize_ms:.1f} ms")
    print(
        f"resident after initialize: {report.rss_after_initialize_mib:.1f} MiB "
        f"(after load {report.rss_after_load_mib:.1f} MiB)"
    )
    for label, r in (
        ("sequential", report.sequential),
        (f"{report.pipelined.inflight} in flight", report.pipelined),
    ):
        cpu = r.server_cpu_us_per_request
        cpu_text = "n/a" if cpu is None else f"{cpu:.0f} us"
        print(
            f"{label:>13}: {r.requests_per_s:9.0f} req/s  p50 {r.p50_us:7.0f} us  "
            f"p99 {r.p99_us:7.0f} us  server CPU/req {cpu_text}  "
            f"(loadgen {r.loadgen_cpu_us_per_request:.0f} us; {r.requests} requests)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per load shape")
    parser.add_argument("--inflight", type=int, default=16, help="requests in flight (pipelined)")
    parser.add_argument("--warmup", type=int, default=200, help="sequential calls before timing")
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the feature check (for servers that only echo)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a reply")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--revision",
        choices=[PROTOCOL_VERSION, MODERN_VERSION],
        default=PROTOCOL_VERSION,
        help="the era: a 2025-11-25 session, or 2026-07-28 requests that carry their terms",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- server command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the server command after --")
    try:
        report = bench_stdio(
            command,
            duration=args.duration,
            inflight=args.inflight,
            warmup=args.warmup,
            check=not args.no_check,
            timeout=args.timeout,
            revision=args.revision,
        )
    except BenchError as exc:
        print(f"loadgen: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        _print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
