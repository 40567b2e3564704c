"""Turn a target into an open message channel to an MCP server: an in-process server (memory
pair), a command (stdio), a stdio description, a URL (Streamable HTTP, falling back to the
older HTTP+SSE transport when the server refuses it), or a function that opens one. The client
connects with it, and the proxy opens its upstream sessions with it. A URL's channel, with its
fallback, is `url_channel`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from mcpkit.runtime.background import end_within
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ChannelOpener",
    "InProcessServer",
    "Opened",
    "Target",
    "close_opened",
    "mcpkit_run_argv",
    "open_target",
    "script_argv",
]

logger = logging.getLogger("mcpkit.client")

#: An open channel and the coroutine function that releases it (ends the process, say).
Opened = tuple[MessageChannel, Callable[[], Awaitable[None]]]
#: Opens a fresh channel each time it is called: for servers no other target describes.
ChannelOpener = Callable[[], Awaitable[Opened]]


@runtime_checkable
class InProcessServer(Protocol):
    """Anything with `serve(channel)`, such as `mcpkit.Server` (the client does not import it)."""

    def serve(self, channel: MessageChannel) -> Coroutine[Any, Any, None]: ...


#: InProcessServer | Sequence[str] | str | PathLike | StdioParameters | StreamableHttpTransport
#: | ChannelOpener. Spelled Any: naming the HTTP and stdio types here would import them (and
#: httpx) for every client, whichever transport it uses; `open_target` tells them apart.
Target = Any

#: A command list or string starting with one of these runs with `sys.executable`.
_BARE_PYTHON = frozenset({"python", "python3"})
#: Seconds an in-process server has to end at the client's close, before it is cancelled.
_SERVER_END_WAIT = 5.0
#: Seconds it then has to end its cleanup (a stdio channel it holds waits up to 5 s for the
#: process it killed to be reaped).
_CANCELLED_SERVER_WAIT = 10.0
#: Server files another program runs (by their suffix): JavaScript, with Node.js. A file
#: that needs a runner is never executed directly: it may lack the executable bit or a #! line.
_SCRIPT_RUNNERS = {".js": "node", ".mjs": "node", ".cjs": "node"}


async def close_opened(
    connection: Connection | None, release: Callable[[], Awaitable[None]] | None
) -> None:
    """End what was opened for a target: the connection first (its channel, so the peer sees
    the end), then the transport's release (stdio: stdin closed, then SIGTERM, then SIGKILL).
    Either may be None: not opened, or already closed (take them from their owner first, so
    a second close finds nothing). The release runs whatever the connection's close raised
    (a cancellation too), which is raised after it."""
    try:
        if connection is not None:
            await connection.aclose()
    finally:
        if release is not None:
            await release()


def mcpkit_run_argv(target: str) -> list[str]:
    """The command that serves a server file (`server.py[:object]`) or module over stdio, as
    `mcpkit run` does: with this interpreter (it has mcpkit, and most likely the server's
    dependencies), finding the file's Server whether or not it has a `__main__` block. The
    one rule for `Client("server.py")` and the command line's TARGET."""
    return [sys.executable, "-m", "mcpkit", "run", target]


def script_argv(target: str) -> list[str] | None:
    """The command that serves a server file Python does not run, `server.js` (or `.mjs`,
    `.cjs`): `node server.js`, as the npm reference servers are run; None for other text. The
    one rule for `Client("server.js")` and the command line's TARGET."""
    suffix = os.path.splitext(target)[1].lower()
    runner = _SCRIPT_RUNNERS.get(suffix)
    # Text with spaces that names no file is a command ("node --flag server.js"): it is split
    # and run as written, not wrapped in a second `node`.
    if runner is None or (any(ch.isspace() for ch in target) and not os.path.isfile(target)):
        return None
    return [runner, target]


def _is_server_file(target: str) -> bool:
    """`server.py` or `server.py:object` (one word, as the command line's TARGET), or a path
    to an existing .py file with spaces in it; not a command such as `python server.py`."""
    if target.endswith(".py") and os.path.isfile(target):
        return True
    return not any(ch.isspace() for ch in target) and target.partition(":")[0].endswith(".py")


async def open_target(
    target: Target,
    *,
    stderr: Any = "inherit",
    max_message_size: int | None = None,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    legacy_sse: bool = False,
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """Open a channel to `target`; returns it and a coroutine function that releases it.
    `headers` and `auth` are for URL targets only; `legacy_sse` opens a URL as an HTTP+SSE
    endpoint at once, whatever its path (a config entry's `"type": "sse"`).

    The checks run in an order that matters: a URL first, since it is also a str that would
    otherwise be read as a command; then an in-process server (anything with `serve`); a
    plain callable is taken as a channel opener only when nothing more specific matched.
    Options that would be silently ignored for the target's kind raise TypeError instead.
    """
    if _is_url(target) or _is_http_transport(target):
        # Imported here, as the stdio code is: a client of a command or an in-process server
        # never loads the HTTP channel.
        from mcpkit.transports.url_channel import open_url

        return open_url(
            target,
            headers=headers,
            auth=auth,
            max_message_size=max_message_size,
            legacy_sse=legacy_sse,
        )
    if legacy_sse:
        raise TypeError(f"only a URL can be opened as an HTTP+SSE endpoint, not {target!r}")
    if headers is not None or auth is not None:
        raise TypeError(
            f"headers and auth are for URL targets, not {type(target).__name__}; "
            "give the URL of an MCP endpoint, such as 'http://127.0.0.1:8000/mcp'"
        )
    if isinstance(target, InProcessServer) and not isinstance(target, (str, Sequence)):
        return await _open_in_process(target)
    if callable(target):
        opener = cast(ChannelOpener, target)
        return await opener()
    return await _open_command(target, stderr, max_message_size)


async def _open_command(
    target: Target, stderr: Any, max_message_size: int | None
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """Start a stdio server from a path, a command string or list, or StdioParameters.

    A string is split on whitespace, not parsed as shell: no quoting, no expansion, so a
    target cannot run more than the one program it names. A command with spaces inside an
    argument must be given as a list.
    """
    # Imported here: a client that only speaks HTTP or in-process never loads the stdio code.
    from mcpkit.transports.stdio_client import StdioParameters, open_stdio_client_channel

    if isinstance(target, os.PathLike):
        path = os.fspath(cast("os.PathLike[str]", target))
        target = script_argv(path) or mcpkit_run_argv(path)
    elif isinstance(target, str):
        if _is_server_file(target):
            target = mcpkit_run_argv(target)
        else:
            target = script_argv(target) or target.split()
    if isinstance(target, Sequence) and not isinstance(target, str):
        # the parts may be anything (Path objects, say): each is made a str
        argv = [str(a) for a in cast("Sequence[object]", target)]
        if not argv:
            raise ValueError("the command list is empty; give one such as ['python', 'server.py']")
        if argv[0] in _BARE_PYTHON:
            # Whatever `python` is first on PATH is rarely the interpreter that has mcpkit
            # and the server's dependencies installed; ours is (documented in client.md).
            argv[0] = sys.executable
        # Only when given: StdioParameters' own default then applies, in one place.
        options: dict[str, Any] = {}
        if max_message_size is not None:
            options["max_message_size"] = max_message_size
        target = StdioParameters(command=argv[0], args=argv[1:], stderr=stderr, **options)
    if isinstance(target, StdioParameters):
        # The channel's aclose is the release: it runs the spec's stdio shutdown.
        channel = await open_stdio_client_channel(target)
        return channel, channel.aclose
    raise TypeError(
        f"cannot connect to {target!r} (a {type(target).__name__}): give an "
        "mcpkit Server, a command list such as ['python', 'server.py'], a path "
        "to a .py or .js file, StdioParameters, an http(s):// URL, a StreamableHttpTransport, "
        "or an async function returning (channel, release)"
    )


def _is_url(target: Target) -> bool:
    # Schemes are case-insensitive (RFC 3986, section 3.1): HTTPS://host is a URL too.
    return isinstance(target, str) and target[:8].lower().startswith(("http://", "https://"))


def _is_http_transport(target: Target) -> bool:
    # Checked by name so that a command or a Server target never imports httpx.
    module = type(target).__module__
    return module.startswith("mcpkit.transports.http_client")


async def _open_in_process(
    server: InProcessServer,
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """Serve `server` in this process over a memory pair: the client gets one end, a task
    serves the other. No bytes leave the process, but every message still passes through
    the same encode and decode as over a real transport, so tests see the wire's behaviour.
    """
    from mcpkit.transports.memory import memory_channel_pair

    client_end, server_end = memory_channel_pair()
    task: asyncio.Task[None] = asyncio.get_running_loop().create_task(server.serve(server_end))

    def server_ended(task: asyncio.Task[None]) -> None:
        # A server that fails (its lifespan hook, say) must not leave the client waiting for
        # an answer that cannot come: close the channel with the reason.
        if not task.cancelled() and task.exception() is not None:
            server_end.close(f"the in-process server failed: {task.exception()!r}")

    task.add_done_callback(server_ended)

    # Closing our end is the server's signal to finish, as closing stdin is for stdio; the
    # waits that follow are bounded, so a server stuck in a handler cannot hang the close.
    async def release() -> None:
        await client_end.aclose()
        try:  # the server ends by itself once its channel closed
            await asyncio.wait((task,), timeout=_SERVER_END_WAIT)
        finally:  # (also on the caller's cancellation: raised once the server ended)
            # Its cleanup runs under the cancellation (a proxy kills and reaps its stdio
            # upstreams): wait for it here. Left to itself, it is cancelled again as the loop
            # closes, and a process killed but not yet reaped is left to the collector.
            await end_within(task, _CANCELLED_SERVER_WAIT)
        if task.done() and not task.cancelled() and task.exception() is not None:
            # Already told to the client: server_ended closed its channel with it.
            logger.debug("the in-process server ended with %r", task.exception())

    return client_end, release
