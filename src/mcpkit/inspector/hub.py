"""The inspector's hub: its one MCP client, shared by the pages that watch it. It connects to a
TARGET, forwards the page's requests, streams every message and notification to the pages, and
holds the server's own requests (sampling, elicitation, roots) until a page answers them."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

from mcpkit.client.ui_meta import HOST_EXTENSIONS
from mcpkit.errors import McpError
from mcpkit.inspector.failure import describe_failure
from mcpkit.inspector.panel_client import era_options, open_inspector_client
from mcpkit.inspector.panel_settings import ConnectionSettings
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.protocol.modern import is_modern_revision

if TYPE_CHECKING:
    from mcpkit.client.client import Client
    from mcpkit.client.host_configs.configured import FoundServer
    from mcpkit.client.target import Target

__all__ = ["Approve", "CallCancelled", "InspectorHub"]

#: Events a page has not read yet, above which that page is dropped (it reconnects).
_QUEUE_LIMIT = 1000
#: Bytes of one message the log shows; the rest is cut (a 10 MB resource is not worth it).
_LOG_LIMIT = 64 * 1024
#: Seconds a ping waits for its answer when the settings give no request timeout.
_PING_TIMEOUT = 10.0
#: JSON-RPC code for a request the user refused (as in the spec's sampling examples).
_USER_REJECTED = -1


class Approve(Protocol):
    """Sees what a connect would start (the target, and the environment it would get) before
    anything is closed or started, and may refuse by raising (the inspector's app asks the
    person to confirm a command: `Approvals.check`)."""

    def __call__(self, target: Target, *, env: Mapping[str, str]) -> None: ...


def _confirmed_elsewhere(server: FoundServer, command: str) -> bool:
    """A project's server may start: `Approve` (the page's confirmation) decides, as for any
    command typed in the page, and the command line decided for its own target."""
    return True


class CallCancelled(Exception):
    """The page cancelled this call; the server was sent `notifications/cancelled`."""


class InspectorHub:
    """What the inspector's pages share: at most one connected client, and the event feed.
    `headers` (the command line's `--header`) are sent to `initial_target` only, never to a
    target typed in the page later; `settings` are the command line's (`--protocol`,
    `--timeout`), until a page connects with its own."""

    def __init__(
        self,
        *,
        initial_target: str | None = None,
        headers: Mapping[str, str] | None = None,
        settings: ConnectionSettings | None = None,
        answer_timeout: float = 300.0,
        release_after: float = 10.0,
        client_factory: Callable[..., Client] | None = None,
    ) -> None:
        self.initial_target = initial_target
        self.headers = dict(headers or {})
        self.answer_timeout = answer_timeout
        self.release_after = release_after
        self.client: Client | None = None
        #: The target connected to (None: not connected, or never).
        self.target: str | None = None
        #: The target the pages last asked for, connected or not (a failed connect counts:
        #: `mcpkit dev` tries it again on the next save); None after `disconnect`.
        self.wanted_target: str | None = None
        #: The settings of the last connect asked for, applied again by `mcpkit dev`'s.
        self.settings = settings or ConnectionSettings()
        self._factory = client_factory
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self._release: asyncio.TimerHandle | None = None
        self._releasing: set[asyncio.Task[None]] = set()
        self._calls: dict[str, asyncio.Task[Any]] = {}
        self._cancelled_calls: set[str] = set()
        #: Events' `at` counts milliseconds from here: the start of the latest connect.
        self._started = time.monotonic()

    # ------------------------------------------------------------------ pages

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        """A queue of events for one page; `unsubscribe` it when the page goes."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(_QUEUE_LIMIT)
        self._subscribers.add(queue)
        if self._release is not None:
            self._release.cancel()
            self._release = None
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        """Forget a page; when none is left for `release_after` seconds, the client goes too
        (a closed tab must not keep a server process running)."""
        self._subscribers.discard(queue)
        if not self._subscribers and self.client is not None and self._release is None:
            self._release = asyncio.get_running_loop().call_later(
                self.release_after, self._start_release
            )

    @property
    def watchers(self) -> int:
        return len(self._subscribers)

    def _start_release(self) -> None:
        self._release = None
        if not self._subscribers:  # the task is kept: the loop holds only weak references
            task = asyncio.get_running_loop().create_task(self.disconnect())
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)

    def publish(self, kind: str, **fields: Any) -> None:
        event = {"type": kind, "at": round((time.monotonic() - self._started) * 1000, 1), **fields}
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a page that stopped reading: end its stream
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def state(self) -> dict[str, Any]:
        """What a page that just opened needs: the target, and the server if connected."""
        return {
            "initialTarget": self.initial_target,
            "target": self.target,
            "settings": self.settings.public(),
            # their values are the command line's secret: the page shows the names only
            "commandLineHeaders": sorted(self.headers),
            "server": self._server_facts() if self.client is not None else None,
        }

    # ------------------------------------------------------------- the client

    async def connect(
        self,
        target: str,
        settings: ConnectionSettings | None = None,
        *,
        approve: Approve | None = None,
    ) -> dict[str, Any]:
        """Connect to `target` as `settings` say (None: those of the last connect, as
        `mcpkit dev` reconnects), closing any earlier client; the server's facts. `approve`
        sees what would be started before anything is closed or started, and may refuse."""
        from mcpkit.client.host_configs.configured import resolve_target

        chosen = settings if settings is not None else self.settings
        async with self._lock:
            resolved: Target | ValueError
            try:  # a TargetError is a ValueError, as settings the target cannot take are
                # A project's command is confirmed as any other: the command line asked
                # (--trust-project) for its own target, `approve` asks the page for the rest.
                resolved = resolve_target(target, trust=_confirmed_elsewhere)
                chosen.check(resolved)
            except ValueError as exc:
                resolved = exc
            if approve is not None and not isinstance(resolved, ValueError):
                approve(resolved, env=chosen.env)
            await self._close_client()
            self.wanted_target, self.settings = target, chosen
            self._started = time.monotonic()
            self.publish("connecting", target=target)
            try:
                if isinstance(resolved, ValueError):
                    raise resolved  # told as a failed connect, as a server that fails is
                client = self._new_client(resolved, chosen)
            except ValueError as exc:
                self.publish("connect_failed", target=target, failure=describe_failure(exc))
                raise
            try:
                await client.connect()
            except BaseException as exc:
                await client.aclose()
                self.publish("connect_failed", target=target, failure=describe_failure(exc))
                raise
            self.client, self.target = client, target
            facts = self._server_facts()
            self.publish("connected", target=target, server=facts)
            return facts

    def _new_client(self, target: Target, settings: ConnectionSettings) -> Client:
        options: dict[str, Any] = {
            "sampling_handler": self._ask_page("sampling/createMessage"),
            "elicitation_handler": self._ask_page("elicitation/create"),
            "url_elicitation_handler": self._ask_page("elicitation/create"),
            "roots": self._ask_page("roots/list"),
            "on_notification": self._notified,
            "on_message": self._tapped,
            "name": "mcpkit-inspector",
            # The page renders MCP Apps views (apps.js), so servers send their UI metadata.
            "extensions": HOST_EXTENSIONS,
            **era_options(settings),
        }
        if self._factory is not None:
            return self._factory(target.text, **options)
        # `--header` values were given for the command line's target: another server typed
        # in the page later must not receive them (they are often credentials)
        if self.headers and target.text.strip() == (self.initial_target or "").strip():
            settings = settings.with_headers(self.headers)
        return open_inspector_client(target, settings, **options)

    async def disconnect(self) -> None:
        async with self._lock:
            self.wanted_target = None
            await self._close_client()

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        for call in self._calls.values():
            call.cancel()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if client is not None:
            await client.aclose()
            self.publish("disconnected", target=self.target, reason="closed")
        self.target = None

    def _server_facts(self) -> dict[str, Any]:
        """What the page shows of the server, in either era: from `initialize`'s result, or
        from `server/discover` under 2026-07-28 (`modern` says which)."""
        client = self.client
        assert client is not None
        revision = client.protocol_version
        facts: dict[str, Any] = {
            "protocolVersion": revision,
            "modern": is_modern_revision(revision),
            "serverInfo": msgspec.to_builtins(client.server_info),
            "capabilities": msgspec.to_builtins(client.server_capabilities),
        }
        if client.instructions is not None:
            facts["instructions"] = client.instructions
        return facts

    async def request(self, method: str, params: Any, call: str | None = None) -> Any:
        """Send one request as the page asked; its result as JSON-ready builtins. `call`, the
        page's name for it, asks for progress reports (published as `progress` events)."""
        client = self.client
        if client is None:
            raise McpError(-32600, "not connected: connect to a server first")

        def progress(done: float, total: float | None, message: str | None) -> None:
            self.publish("progress", call=call, progress=done, total=total, message=message)

        sent = client.request(method, params, progress=progress if call else None)
        if call is None:
            return msgspec.to_builtins(await sent)
        task = asyncio.get_running_loop().create_task(sent)
        self._calls[call] = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:  # the page's HTTP request went away: so does the call
            task.cancel()
            raise
        finally:
            self._calls.pop(call, None)
        if task.cancelled() and call in self._cancelled_calls:
            self._cancelled_calls.discard(call)
            raise CallCancelled(
                f"{method} was cancelled; the server was sent notifications/cancelled"
            )
        if task.cancelled():  # the client closed under it (Disconnect, another connect)
            raise McpError(INTERNAL_ERROR, f"{method} ended unanswered: the inspector disconnected")
        return msgspec.to_builtins(task.result())

    async def ping(self) -> dict[str, Any]:
        """Check that the server answers (`ping`; `server/discover` under 2026-07-28, which
        has no ping), within the request timeout or `_PING_TIMEOUT`; how long it took."""
        client = self.client
        if client is None:
            raise McpError(-32600, "not connected: connect to a server first")
        started = time.monotonic()
        await client.ping(timeout=self.settings.timeout or _PING_TIMEOUT)
        method = "server/discover" if is_modern_revision(client.protocol_version) else "ping"
        return {"method": method, "ms": round((time.monotonic() - started) * 1000, 1)}

    def cancel(self, call: str) -> bool:
        """Cancel the running request the page named `call` (the client sends the server
        `notifications/cancelled`); False if it is no longer running."""
        task = self._calls.get(call)
        if task is None or task.done():
            return False
        self._cancelled_calls.add(call)
        task.cancel()
        return True

    # --------------------------------------------------------- the server asks

    def _ask_page(self, method: str) -> Callable[..., Any]:
        async def ask(params: Any = None) -> Any:
            return await self._held(method, params)

        return ask

    async def _held(self, method: str, params: Any) -> Any:
        ident = f"q{next(self._ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        self.publish("server_request", id=ident, method=method, params=msgspec.to_builtins(params))
        try:
            async with asyncio.timeout(self.answer_timeout):
                answer = await future
        except TimeoutError:
            raise McpError(
                -32603, f"nobody answered {method} in the inspector within {self.answer_timeout} s"
            ) from None
        finally:
            self._pending.pop(ident, None)
            self.publish("server_request_done", id=ident)
        if method == "roots/list":
            from mcpkit.types import Root

            return [msgspec.convert(root, Root) for root in answer.get("roots", [])]
        return answer

    def answer(self, ident: str, result: Any = None, error: str | None = None) -> bool:
        """The page's answer to a held request (an error message refuses it); False if that
        request is no longer waiting."""
        future = self._pending.get(ident)
        if future is None or future.done():
            return False
        if error is not None:
            future.set_exception(McpError(_USER_REJECTED, error))
        else:
            future.set_result(result)
        return True

    def _notified(self, method: str, params: Any) -> None:
        self.publish("notification", method=method, params=msgspec.to_builtins(params))

    def _tapped(self, direction: Literal["sent", "received"], data: bytes) -> None:
        if len(data) > _LOG_LIMIT:
            self.publish(
                "message",
                direction=direction,
                size=len(data),
                text=data[:_LOG_LIMIT].decode(errors="replace"),
            )
            return
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        self.publish("message", direction=direction, size=len(data), body=body)
