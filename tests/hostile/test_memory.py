"""Memory stays bounded whatever the client does, measured on the real server process
(/proc/PID/status): cancellation storms, a client that stops reading, a client that goes
away without closing stdin. The bounds are generous: this is a leak detector, not a benchmark.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Final

import pytest

from hostile.harness import COMMANDS, WAIT, RawServer, ServerGone, rss_kib

MIB: Final = 1024  # KiB
STORM: Final = 20_000
STALLED_CALLS: Final = 10_000
ANSWER_SIZE: Final = 10_000  # bytes of text in each answer
STALL: Final = 1.0  # seconds without progress that count as "the server stopped reading"


def call_line(rid: int, name: str, arguments: dict[str, Any]) -> bytes:
    return (
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
        ).encode()
        + b"\n"
    )


def cancel_line(rid: int) -> bytes:
    return (
        json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": rid, "reason": "storm"},
            }
        ).encode()
        + b"\n"
    )


def storm(server: RawServer, first: int, count: int) -> None:
    """`count` tools/call requests, each followed at once by its cancellation, in one write."""
    ids = range(first, first + count)
    server.write(b"".join(call_line(i, "wait", {}) + cancel_line(i) for i in ids), timeout=30)
    # Cancelled requests get no answer (basic/utilities/cancellation); the ping's answer
    # also shows every line before it was read.
    assert server.ping_after() == []


def test_requests_cancelled_as_they_arrive_leave_nothing_behind() -> None:
    with RawServer(COMMANDS["script"]) as server:
        server.initialize()
        storm(server, 0, 2_000)  # warm up the allocator, caches and the event loop
        server.ping_after()
        before = rss_kib(server.pid)
        storm(server, 2_000, STORM)
        server.ping_after()
        grown = rss_kib(server.pid) - before
        assert grown < 15 * MIB, (
            f"{STORM} cancelled requests grew the server by {grown / MIB:.1f} MiB "
            f"({grown * 1024 // STORM} bytes each)"
        )


def wait_while_stalled(server: RawServer, writer: Any, before: int, bound: int) -> int:
    """While the test reads nothing: sample the server's RSS until it has taken all our
    bytes or stopped taking them, and its RSS has stopped growing; or until it passes
    `bound`. Returns the largest RSS seen (KiB)."""
    peak = before
    steady_since = time.monotonic()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rss = rss_kib(server.pid)
        if rss > peak + MIB:
            steady_since = time.monotonic()
        peak = max(peak, rss)
        if peak - before > bound:
            break
        writer_done = writer.written >= writer.total or writer.idle >= STALL
        if writer_done and time.monotonic() - steady_since >= STALL:
            break
        time.sleep(0.05)  # the sampling interval, not a wait for anything to happen
    return peak


def test_a_client_that_stops_reading_gets_every_answer_once_in_bounded_memory() -> None:
    bound = 50 * MIB
    with RawServer(COMMANDS["script"]) as server:
        server.initialize()
        server.ping_after()
        before = rss_kib(server.pid)
        server.pause_reading()
        calls = b"".join(call_line(i, "blob", {"size": ANSWER_SIZE}) for i in range(STALLED_CALLS))
        writer = server.write_in_background(calls, timeout=60)
        peak = wait_while_stalled(server, writer, before, bound)
        assert peak - before < bound, (
            f"while the client read nothing the server grew by {(peak - before) / MIB:.0f} "
            f"MiB, having read {writer.written} of {writer.total} bytes of requests"
        )
        server.resume_reading()
        seen: dict[int, int] = {}
        for _ in range(STALLED_CALLS):
            msg = server.next_message(timeout=30)
            text = msg["result"]["content"][0]["text"]
            assert len(text) == ANSWER_SIZE, msg.get("id")
            seen[msg["id"]] = seen.get(msg["id"], 0) + 1
        writer.join(WAIT)
        assert writer.error is None and writer.written == writer.total
        assert seen == dict.fromkeys(range(STALLED_CALLS), 1)
        assert server.ping_after() == []
        grown = rss_kib(server.pid, "VmHWM") - before
        assert grown < bound, f"the server peaked {grown / MIB:.0f} MiB above its start"


@pytest.mark.parametrize("uvloop", ["1", "0"])
def test_a_client_that_closes_its_read_end_ends_the_session(tmp_path: Path, uvloop: str) -> None:
    marker = tmp_path / "marker"
    env = {"MCPKIT_HOSTILE_MARKER": str(marker), "MCPKIT_UVLOOP": uvloop}
    with RawServer(COMMANDS["script"], env=env) as server:
        server.initialize()
        server.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "hold", "arguments": {}},
            }
        )
        assert marker_says(marker, "started")
        server.close_read_end()  # stdin stays open: only the broken pipe can tell
        # What the server does once it notices, each step awaited as it happens and bounded
        # only against a hang: its tool is cancelled, then its process exits.
        if not marker_says(marker, "cancelled"):
            raise ServerGone(
                f"the server kept its tool running with nobody reading its output "
                f"(tool: {marker.read_text()}){server.stderr_note()}"
            )
        try:
            server.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired as exc:
            raise ServerGone(
                f"the server cancelled its tool but kept running with nobody reading its "
                f"output{server.stderr_note()}"
            ) from exc


def marker_says(marker: Path, text: str) -> bool:
    """Whether the file the hold tool writes says `text` within WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text() == text:
            return True
        time.sleep(0.01)  # polling a file the tool writes; bounded
    return False
