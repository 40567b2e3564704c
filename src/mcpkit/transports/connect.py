"""Turn a target into an open message channel to an MCP server: an in-process server (memory
pair), a command (stdio), a stdio description, a URL (Streamable HTTP, falling back to the
older HTTP+SSE transport when the server refuses it), or a function that opens one. The client
connects with it, and the proxy opens its upstream sessions with it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from mcpkit._extras import needs_extra
from mcpkit.runtime.authorizing import Authorizing
from mcpkit.runtime.background import end_within
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.types import RequestId

if TYPE_CHECKING:
    import httpx

    from mcpkit.transports.http_client import LegacyFallback, StreamableHttpTransport
    from mcpkit.transports.legacy_sse_client import StreamRefused

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
        return _open_http(
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


# ------------------------------------------------------------------------------- HTTP


def _open_http(
    target: Any,
    *,
    headers: Mapping[str, str] | None,
    auth: httpx.Auth | None,
    max_message_size: int | None,
    legacy_sse: bool = False,
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """A channel to a URL or a caller-built StreamableHttpTransport, not yet connected.

    Nothing is sent here (hence not async): the first message, the initialize, decides
    whether the server speaks Streamable HTTP or only the old HTTP+SSE transport.
    """
    with needs_extra("http", "connecting to a URL"):  # a plain `pip install mcpkit` has none
        from mcpkit.transports.http_client import StreamableHttpTransport

    if isinstance(target, str):
        transport = StreamableHttpTransport(target, headers=headers, auth=auth)
    elif headers is not None or auth is not None:
        raise TypeError(
            "give headers and auth to the StreamableHttpTransport itself, not to Client"
        )
    else:
        transport = target
    transport.open(max_message_size=max_message_size)
    if legacy_sse or _names_legacy_endpoint(transport.url):
        channel: MessageChannel = _HttpChannel(transport, legacy_now=True)
    else:
        channel = _HttpChannel(transport)
    return channel, channel.aclose


def _names_legacy_endpoint(url: str) -> bool:
    """A URL whose path ends in /sse names the old transport's SSE endpoint (2024-11-05).

    A convention, not a rule of the spec, but the path the reference SDKs serve it at;
    trying Streamable HTTP first there would only cost a refused POST.
    """
    path = url.split("?", 1)[0].split("#", 1)[0]
    return path.rstrip("/").endswith("/sse")


class _HttpChannel:
    """Streamable HTTP, or HTTP+SSE when the server refuses our initialize with 400, 404 or
    405 (basic/transports, "Backwards Compatibility"): the transport says so by raising
    `LegacyFallback` from `receive()`, and the initialize it kept goes to the old transport.
    Nothing else is in flight then: the client sends nothing before initialize is answered."""

    def __init__(self, transport: StreamableHttpTransport, *, legacy_now: bool = False) -> None:
        from mcpkit.transports.http_client import LegacyFallback

        self.http = transport
        # The old transport's channel once open; from then on every message goes to it.
        self.legacy: MessageChannel | None = None
        # True: the URL or the caller named the old transport, so it is opened at once.
        self._legacy_now = legacy_now
        # Opening it in that case, shared by receive and send (`_legacy_at_once`).
        self._opening: asyncio.Task[MessageChannel] | None = None
        # Kept as an attribute so the class is caught in receive without a module-level
        # import of http_client (and so of httpx) when connect is imported.
        self._signal = LegacyFallback

    def session_id(self) -> str | None:
        """The `Mcp-Session-Id` the server gave (`ChannelExtras.session_id`); None before it
        answered, for a stateless server, or on the old transport."""
        return self.http.session_id if self.legacy is None else None

    def failed_here(self, request_id: RequestId) -> BaseException | None:
        """`ChannelExtras.failed_here`: Streamable HTTP's (the old transport raises instead)."""
        return self.http.failed_here(request_id) if self.legacy is None else None

    @property
    def legacy_only(self) -> bool:
        """Whether only the legacy era can be spoken: the old HTTP+SSE transport (a URL
        ending in /sse) is a 2024-11-05 transport, with no modern revision."""
        return self._legacy_now or self.legacy is not None

    @property
    def authorizing(self) -> Authorizing | None:
        """`ChannelExtras.authorizing`: the token fetches of the auth both transports use."""
        return self.http.authorizing

    def speak_modern(self, revision: str, headers: Any) -> None:
        """Speak a modern revision over Streamable HTTP (`StreamableHttpTransport`)."""
        self.http.speak_modern(revision, headers)

    def speak_sessions(self) -> None:
        """Speak a session-based revision (2025-11-25 and before) over Streamable HTTP."""
        self.http.speak_sessions()

    async def _legacy_at_once(self) -> MessageChannel:
        """The old transport for a URL that names it: opened once, by whichever of the
        runtime's reader (receive) and writer (send) comes first; the other waits for it."""
        if self._opening is None:
            why = "it is named an HTTP+SSE endpoint"
            self._opening = asyncio.ensure_future(self._open_legacy(self.http.url, why))
        # Shielded: cancelling one of the two waiters must not cancel the opening the
        # other still waits on; aclose cancels it itself.
        return await asyncio.shield(self._opening)

    async def receive(self) -> bytes:
        if self.legacy is None and self._legacy_now:
            await self._legacy_at_once()
        if self.legacy is not None:
            return await self.legacy.receive()
        try:
            return await self.http.receive()
        except self._signal as signal:
            # The initialize was refused, not lost: it is sent again on the old transport,
            # and its answer is what this receive returns, so the session never notices
            # the switch.
            legacy = await self._open_legacy(signal.url, str(signal), signal)
            await legacy.send(signal.initialize_body)
            return await legacy.receive()

    async def send(self, data: bytes) -> None:
        if self.legacy is None and self._legacy_now:
            await self._legacy_at_once()
        if self.legacy is not None:
            await self.legacy.send(data)
        else:
            await self.http.send(data)

    async def _open_legacy(
        self, url: str, why: str, refused: LegacyFallback | None = None
    ) -> MessageChannel:
        """The old transport at `url`, opened because of `why`: the Streamable HTTP POST was
        `refused`. If this fails too, a web page the POST got is all the error says, and a
        404 to both is a wrong path."""
        from mcpkit.errors import ConnectionClosed

        legacy_client: Any = None
        try:
            # Imported here: only a server that needs the old transport loads it (by name,
            # so this module type-checks whether or not that transport is installed).
            legacy_client = importlib.import_module("mcpkit.transports.legacy_sse_client")
            legacy: MessageChannel = await legacy_client.open_legacy_sse_channel(
                url,
                http_client=self.http.http_client,
                headers=self.http.headers,
                auth=self.http.auth,
                max_message_size=self.http.max_message_size,
            )
        except Exception as exc:
            if refused is not None and refused.page:  # a web server, not an MCP one
                raise ConnectionClosed(refused.not_mcp()) from exc
            if refused is not None and refused.status == 404 and _is_404(legacy_client, exc):
                raise ConnectionClosed(refused.wrong_path()) from exc
            if self._legacy_now:  # the only transport tried: its failure is the story
                raise ConnectionClosed(str(exc)) from exc
            raise ConnectionClosed(f"{why}; the HTTP+SSE transport failed too: {exc}") from exc
        self.legacy = legacy
        return legacy

    async def aclose(self) -> None:
        """Close whichever transports were opened; the HTTP one last, since the legacy
        channel runs over its HTTP client."""
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            await asyncio.gather(self._opening, return_exceptions=True)
        legacy, self.legacy = self.legacy, None
        if legacy is not None:
            await legacy.aclose()
        await self.http.aclose()


def _is_404(legacy_client: Any, exc: Exception) -> bool:
    """Whether the old transport's GET was answered 404 (`StreamRefused`)."""
    if legacy_client is None:  # (not installed)
        return False
    refused: type[StreamRefused] = legacy_client.StreamRefused
    return isinstance(exc, refused) and exc.status == 404
