"""A server that dies at start-up: the error says why, whatever the `stderr` setting."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from mcpkit import Client, ConnectionClosed, StdioParameters
from mcpkit.transports.stdio_client import StdioClientChannel

SRC = str(Path(__file__).resolve().parents[2] / "src")  # this checkout, not an installed one

DYING_SERVERS = {
    "raises_at_import": (
        "raise RuntimeError('the database URL is not set')\n",
        "RuntimeError: the database URL is not set",
    ),
    "exits_3": (
        "import sys\nprint('config missing', file=sys.stderr)\nsys.exit(3)\n",
        "config missing",
    ),
    "syntax_error": ("def broken(:\n    pass\n", "SyntaxError"),
}


def dying_server(tmp_path: Path, kind: str) -> tuple[Path, str]:
    body, expected = DYING_SERVERS[kind]
    path = tmp_path / f"{kind}.py"
    path.write_text(body)
    return path, expected


@pytest.mark.parametrize("kind", sorted(DYING_SERVERS))
@pytest.mark.parametrize("stderr", ["inherit", "capture", "devnull", "file"])
async def test_the_error_quotes_the_servers_last_stderr_lines(
    tmp_path: Path, kind: str, stderr: str
) -> None:
    path, expected = dying_server(tmp_path, kind)
    log = tmp_path / "server.log"
    with open(log, "wb") as log_file:
        option = log_file if stderr == "file" else stderr
        with pytest.raises(ConnectionClosed) as caught:
            async with Client([sys.executable, str(path)], stderr=option):
                pass
    message = str(caught.value)
    assert expected in message
    assert "last lines of its stderr" in message
    assert "stdin is closed" not in message
    if kind == "exits_3":
        assert "exited with code 3" in message
    if stderr == "file":  # the tee still forwards everything where it was asked to go
        assert expected in log.read_text()


async def test_stderr_can_go_to_a_file_object_without_a_descriptor(tmp_path: Path) -> None:
    path, expected = dying_server(tmp_path, "raises_at_import")
    sink = io.StringIO()
    with pytest.raises(ConnectionClosed, match="database URL"):
        async with Client([sys.executable, str(path)], stderr=sink):
            pass
    assert expected in sink.getvalue()


async def test_the_tail_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "chatty.py"
    path.write_text(
        "import sys\nfor i in range(20000):\n    print('line', i, 'x' * 100, "
        "file=sys.stderr)\nsys.exit(5)\n"
    )
    with pytest.raises(ConnectionClosed) as caught:
        async with Client([sys.executable, str(path)], stderr="devnull"):
            pass
    message = str(caught.value)
    assert "exited with code 5" in message and "line 19999" in message
    assert len(message.encode()) < 5 * 1024


@pytest.mark.parametrize("python", ["python", "python3"])
async def test_a_bare_python_runs_this_interpreter(tmp_path: Path, python: str) -> None:
    path = tmp_path / "which.py"
    path.write_text(
        "import sys\nprint('interpreter', sys.executable, file=sys.stderr)\nsys.exit(4)\n"
    )
    with pytest.raises(ConnectionClosed) as caught:
        async with Client([python, str(path)], stderr="devnull"):
            pass
    assert f"interpreter {sys.executable}" in str(caught.value)


async def test_a_stuck_stderr_destination_never_blocks_the_client(tmp_path: Path) -> None:
    # A host whose stderr is a pipe nobody reads: the tee drops past its bound instead of
    # blocking the event loop or growing without limit.
    path = tmp_path / "loud.py"
    path.write_text(
        "import sys\nsys.stderr.write('x' * 4_000_000 + '\\nlast words\\n')\nsys.stderr.flush()\n"
        "from mcpkit import Server\nserver = Server('loud')\n"
        "@server.tool()\ndef hi() -> str:\n    return 'hi'\nserver.run()\n"
    )
    read_end, write_end = os.pipe()
    try:
        params = StdioParameters(
            sys.executable, [str(path)], stderr=write_end, env={"PYTHONPATH": SRC}
        )
        async with Client(params) as client:
            assert (await client.call_tool("hi")).text == "hi"
            channel = client.connection.channel
            assert isinstance(channel, StdioClientChannel)
            forward = channel._forward  # the tee's own counters: what was held, what dropped
            assert forward is not None
            assert forward.dropped > 2_000_000
            assert forward.pending <= 1024 * 1024
            assert "last words" in channel.stderr_tail()
    finally:
        os.close(read_end)  # the forwarding thread's blocked write fails, and it ends
        os.close(write_end)
