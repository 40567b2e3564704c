"""An mcpkit Server for the stdio tests: `python mcp_server.py [MODE]`.

Modes: `normal`; `garbage` (non-JSON lines on stdout before serving); `stubborn` (ignores
SIGTERM and keeps running after stdin closes).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from mcpkit import Server

server = Server("stdio-test-server", version="1.0.0")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def noisy(text: str) -> str:
    """Print to stdout (which must end up on stderr), then answer."""
    print("a stray print from a tool:", text)
    sys.stdout.write("and a write to sys.stdout\n")
    os.write(1, b"and a write to fd 1\n")
    return text.upper()


@server.tool()
def crash(code: int) -> str:
    """Die in the middle of the request."""
    sys.stderr.write("about to crash: the tool failed badly\n")
    sys.stderr.flush()
    os._exit(code)


@server.tool()
async def hang() -> str:
    """Never answer (until cancelled)."""
    await asyncio.sleep(3600)
    return "unreachable"


@server.tool()
def env(name: str) -> str:
    """The value of an environment variable, or '<unset>'."""
    return os.environ.get(name, "<unset>")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "normal"
    if mode == "garbage":
        os.write(1, b"Starting up... (this is not JSON)\n\n[1, 2, 3\nplain text\n")
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, lambda *_: None)
    server.run()
    if mode == "stubborn":
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
