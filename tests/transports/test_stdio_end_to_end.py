"""The real Client against real server processes over stdio: crashes, stubborn servers,
garbage on stdout, silence, missing commands and the child's environment."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest
from _processes import starts

from mcpkit import Client, ConnectionClosed, McpkitError, RequestTimeout, StdioParameters
from mcpkit.errors import TransportError
from mcpkit.transports.stdio_client import StdioClientChannel

PEERS = Path(__file__).parent / "peers"
SERVER = str(PEERS / "mcp_server.py")
WAIT = 10.0  # seconds: a bound on hangs, not a performance assertion


def text_of(result: object) -> str:
    content = getattr(result, "content", [])
    return "".join(getattr(item, "text", "") for item in content)


async def test_a_tool_call_over_stdio() -> None:
    async with asyncio.timeout(WAIT):
        async with Client([sys.executable, SERVER]) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert text_of(result) == "5"
            channel = client.connection.channel
            assert isinstance(channel, StdioClientChannel)
    assert channel.returncode == 0


async def test_a_python_file_target_runs_with_this_interpreter() -> None:
    async with asyncio.timeout(WAIT):
        async with Client(SERVER) as client:
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"


async def test_prints_in_a_tool_do_not_break_the_session() -> None:
    async with asyncio.timeout(WAIT):
        async with Client([sys.executable, SERVER], stderr="capture") as client:
            assert text_of(await client.call_tool("noisy", {"text": "abc"})) == "ABC"
            assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"
            channel = client.connection.channel
            assert isinstance(channel, StdioClientChannel)
    assert "a stray print from a tool: abc" in channel.stderr_tail()


async def test_a_server_crash_fails_the_pending_call_and_says_the_process_exited() -> None:
    async with asyncio.timeout(WAIT):
        async with Client([sys.executable, SERVER], stderr="capture") as client:
            with pytest.raises(TransportError) as caught:
                await client.call_tool("crash", {"code": 5})
            assert isinstance(caught.value, ConnectionClosed)
            text = str(caught.value)
            assert "exited with code 5" in text
            assert "about to crash" in text
            with pytest.raises(ConnectionClosed):
                await client.call_tool("add", {"a": 1, "b": 2})


async def test_a_server_ignoring_stdin_close_and_sigterm_is_killed() -> None:
    params = StdioParameters(
        sys.executable, [SERVER, "stubborn"], close_timeout=0.3, terminate_timeout=0.3
    )
    async with asyncio.timeout(WAIT):
        async with Client(params) as client:
            assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"
            channel = client.connection.channel
            assert isinstance(channel, StdioClientChannel)
    assert channel.returncode == -signal.SIGKILL


async def test_garbage_on_stdout_before_the_answers_does_not_break_the_client() -> None:
    async with asyncio.timeout(WAIT):
        async with Client([sys.executable, SERVER, "garbage"]) as client:
            assert text_of(await client.call_tool("add", {"a": 20, "b": 22})) == "42"


async def test_a_call_that_is_never_answered_times_out() -> None:
    async with asyncio.timeout(WAIT):
        async with Client([sys.executable, SERVER]) as client:
            with pytest.raises(RequestTimeout):
                await client.call_tool("hang", {}, timeout=0.5)
            assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"


async def test_a_server_that_never_answers_initialize_fails_cleanly() -> None:
    client = Client([sys.executable, str(PEERS / "silent_server.py")], init_timeout=0.5)
    async with asyncio.timeout(WAIT):
        with pytest.raises(RequestTimeout, match="did not answer initialize"):
            async with client:
                pytest.fail("the handshake cannot succeed")
    with pytest.raises(McpkitError):
        client.connection  # noqa: B018 - the client is left closed


async def test_a_missing_command_is_a_transport_error() -> None:
    async with asyncio.timeout(WAIT):
        with pytest.raises(TransportError, match="not found"):
            async with Client(["mcpkit-no-such-command-7f3a", "--flag"]):
                pytest.fail("cannot connect")


async def test_the_server_sees_the_default_environment_plus_additions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCPKIT_TEST_PARENT_SECRET", "do-not-leak")
    params = StdioParameters(sys.executable, [SERVER], env={"MCPKIT_TEST_ADDED": "yes"})
    async with asyncio.timeout(WAIT):
        async with Client(params) as client:
            added = await client.call_tool("env", {"name": "MCPKIT_TEST_ADDED"})
            secret = await client.call_tool("env", {"name": "MCPKIT_TEST_PARENT_SECRET"})
    assert text_of(added) == "yes"
    assert text_of(secret) == "<unset>"


def test_requests_sent_just_before_stdin_closes_are_still_answered() -> None:
    """`printf '...' | python server.py`: the server drains what it was sent, then exits."""
    import json
    import subprocess

    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "pipe", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 20, "b": 22}},
        },
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines)
    done = subprocess.run(
        [sys.executable, SERVER], input=data, capture_output=True, text=True, timeout=WAIT
    )
    replies = {msg["id"]: msg for msg in map(json.loads, done.stdout.splitlines())}
    assert replies[2]["result"]["structuredContent"] == {"result": 42}
    assert done.returncode == 0


def test_sigterm_ends_the_server_cleanly_through_its_lifespan(tmp_path: Path) -> None:
    import json
    import subprocess

    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, str(PEERS / "lifespan_server.py"), str(marker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "t", "version": "0"},
                    },
                }
            ).encode()
            + b"\n"
        )
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["id"] == 1
        assert marker.read_text() == "up"  # the lifespan is entered before anything is served
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
        assert marker.read_text() == "down"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("uvloop", ["1", "0"])
async def test_a_tool_call_over_stdio_on_each_event_loop(uvloop: str) -> None:
    """Server.run uses uvloop when installed (it is, in the test environment) unless
    MCPKIT_UVLOOP=0; both loops carry the same session."""
    params = StdioParameters(command=sys.executable, args=[SERVER], env={"MCPKIT_UVLOOP": uvloop})
    async with asyncio.timeout(WAIT):
        async with Client(params) as client:
            assert text_of(await client.call_tool("add", {"a": 2, "b": 40})) == "42"
            assert text_of(await client.call_tool("noisy", {"text": "x"})) == "X"


def test_a_tool_call_over_stdio_on_uvloop() -> None:
    import uvloop  # installed with mcpkit[dev]: a missing one fails, never skips

    async def call() -> str:
        async with asyncio.timeout(WAIT):
            async with Client([sys.executable, SERVER]) as client:
                return text_of(await client.call_tool("add", {"a": 2, "b": 3}))

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(call()) == "5"


@starts(3)
async def test_a_file_without_a_main_block_is_served_as_the_command_line_serves_it(
    tmp_path: Path,
) -> None:
    # One rule: Client("server.py") runs `python -m mcpkit run server.py`, as a TARGET does,
    # so a file that only defines its Server works in both (it exited with code 0 before).
    (tmp_path / "bare.py").write_text(
        "from mcpkit import Server\nserver = Server('bare')\n"
        "@server.tool()\ndef add(a: int, b: int) -> int:\n    return a + b\n"
    )
    for target in (
        str(tmp_path / "bare.py"),
        tmp_path / "bare.py",
        f"{tmp_path}/bare.py:server",
    ):
        # A limit for each of the three programs this starts, not one for all three: each
        # start imports mcpkit in a new interpreter, seconds apiece on a busy machine.
        async with asyncio.timeout(WAIT), Client(target) as client:
            assert text_of(await client.call_tool("add", {"a": 2, "b": 2})) == "4"
