"""A scripted stdio peer for the transport tests: `python raw_peer.py MODE [ARG]`.

Modes that use mcpkit's server channel:
  echo             echo every message back (the stray print goes nowhere near stdout)
  print            print() junk before each echo: it must land on stderr
  twice            try to take this process's stdio a second time; report the error
Modes that write raw bytes to stdout:
  oversize N       a line of N bytes, then {"after":1}, then wait for stdin to close
  blank            blank and whitespace-only lines around two messages, then wait
  nonewline        {"last":1} without a trailing newline, then exit 0
  crash N          wait for one line on stdin, write 30 lines to stderr, exit with code N
  env              write our environment as one JSON line, then wait for stdin to close
  stubborn         ignore SIGTERM and the end of stdin; sleep (bounded) until killed
  silent           read stdin until it closes, never write
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time

# Bound on how long any peer lingers, so a broken test never leaves a process behind.
LINGER = 30.0


def wait_for_stdin_close() -> None:
    while os.read(0, 65536):
        pass


async def echo(noisy: bool) -> None:
    from mcpkit.errors import ConnectionClosed
    from mcpkit.transports.stdio_server import open_stdio_server_channel

    channel = await open_stdio_server_channel(max_message_size=2 * 1024 * 1024)
    print("echo peer ready")  # fd 1 is stderr now
    try:
        while True:
            data = await channel.receive()
            if noisy:
                print("stray output from a tool", data[:20])
                os.write(1, b"written to fd 1 directly\n")
            await channel.send(data)
    except ConnectionClosed:
        pass
    finally:
        await channel.aclose()


async def twice() -> None:
    from mcpkit.errors import TransportError
    from mcpkit.transports.stdio_server import open_stdio_server_channel

    channel = await open_stdio_server_channel()
    try:
        await open_stdio_server_channel()
        report: dict[str, str | None] = {"error": None}
    except TransportError as exc:
        report = {"error": str(exc)}
    await channel.send(json.dumps(report).encode())
    await channel.aclose()


def write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def main() -> None:
    mode = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode in ("echo", "print"):
        asyncio.run(echo(noisy=mode == "print"))
    elif mode == "twice":
        asyncio.run(twice())
    elif mode == "oversize":
        write(b'{"pad":"' + b"x" * int(arg) + b'"}\n{"after":1}\n')
        wait_for_stdin_close()
    elif mode == "blank":
        write(b'\n\n   \n\t\r\n{"a":1}\n\n\r\n{"b":2}\r\n\n')
        wait_for_stdin_close()
    elif mode == "nonewline":
        write(b'{"first":1}\n{"last":1}')
    elif mode == "crash":
        sys.stdin.buffer.readline()
        for i in range(30):
            sys.stderr.write(f"crash log line {i}\n")
        sys.stderr.flush()
        os._exit(int(arg))
    elif mode == "env":
        write(json.dumps(dict(os.environ)).encode() + b"\n")
        wait_for_stdin_close()
    elif mode == "stubborn":
        signal.signal(signal.SIGTERM, lambda *_: None)
        write(b'{"ready":1}\n')
        wait_for_stdin_close()
        deadline = time.monotonic() + LINGER
        while time.monotonic() < deadline:
            time.sleep(0.05)
    elif mode == "silent":
        wait_for_stdin_close()
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
