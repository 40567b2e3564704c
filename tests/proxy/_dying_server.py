"""An upstream for the proxy tests, run over stdio: `die` ends the process in the middle of
its call (as a crash would), `echo` answers."""

from __future__ import annotations

import os

from mcpkit import Server

server = Server("dying")


@server.tool()
def echo(text: str) -> str:
    return text


@server.tool()
def die() -> str:
    os._exit(3)


if __name__ == "__main__":
    server.run()
