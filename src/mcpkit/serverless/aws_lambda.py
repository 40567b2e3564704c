"""`lambda_handler(server)`: an AWS Lambda function answering MCP requests with the server's
own Streamable HTTP app, driven in process one event at a time on an event loop kept warm."""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from mcpkit.errors import McpError
from mcpkit.protocol.codes import INTERNAL_ERROR, METHOD_NOT_FOUND
from mcpkit.serverless.lambda_events import EventError, LambdaRequest, lambda_response, read_event
from mcpkit.transports.http.own_calls import MirrorCheck

if TYPE_CHECKING:
    from typing import Unpack

    from mcpkit._asgi import Message
    from mcpkit.stores.url import Stores
    from mcpkit.transports.deployment.app import HttpSettings, McpHttpApp

__all__ = ["LambdaHandler", "lambda_context", "lambda_event", "lambda_handler"]

#: Seconds kept back from the invocation's remaining time to answer 504 before Lambda ends it.
DEADLINE_MARGIN: Final = 0.5
#: Seconds a call cut off at its deadline has to finish once told its client left.
_WIND_DOWN: Final = 0.2
_JSON: Final = ((b"content-type", b"application/json"), (b"cache-control", b"no-store"))
# What a function answers itself must hold: serve one request per invocation, all answers
# JSON, nothing kept between invocations, and no stream to leave open.
_FIXED: Final = {"json_response": True, "stateless": True}

_EVENT: contextvars.ContextVar[tuple[Mapping[str, Any], Any] | None] = contextvars.ContextVar(
    "mcpkit_lambda_event", default=None
)


class AppMaker(Protocol):
    """What the handler needs of a server: its Streamable HTTP app (`Server.http_app`)."""

    def http_app(
        self,
        path: str = ...,
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp: ...


def lambda_event() -> Mapping[str, Any] | None:
    """The Lambda event of the invocation being served (its `requestContext` holds the
    authorizer's claims, the stage, the source IP), or None outside one."""
    found = _EVENT.get()
    return None if found is None else found[0]


def lambda_context() -> Any:
    """The Lambda context object of the invocation being served (`aws_request_id`,
    `get_remaining_time_in_millis()`), or None outside one."""
    found = _EVENT.get()
    return None if found is None else found[1]


def lambda_handler(
    server: AppMaker,
    path: str = "/mcp",
    *,
    store: str | Stores | None = None,
    **settings: Unpack[HttpSettings],
) -> LambdaHandler:
    """A Lambda handler (`handler(event, context)`) serving `server` at `path` from API Gateway
    HTTP API, REST API and function URL events (`LambdaHandler`). The settings are
    `Server.http_app()`'s; `json_response` and `stateless` are the handler's own (True)."""
    return LambdaHandler(server, path, store=store, **settings)


class LambdaHandler:
    """Call it with each event and context; it returns the HTTP answer in the shape the event
    came in. Every answer is buffered (one JSON object, or an HTTP error), so a request that
    would want a stream held open gets a refusal saying so at once: a GET (405), a
    `subscriptions/listen` (404, -32601). A 2025-11-25 client is served each request alone
    (`initialize` gets no `Mcp-Session-Id`).

    The app, its event loop and the server's lifespan are made once per execution
    environment and reused by every warm invocation; `close()` ends them (tests, a runtime
    shutting down)."""

    def __init__(
        self,
        server: AppMaker,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> None:
        for name, value in _FIXED.items():
            if settings.get(name, value) != value:
                raise ValueError(
                    f"lambda_handler serves with {name}=True: an invocation answers one "
                    "request with one buffered JSON body, and keeps nothing for the next "
                    "(for streams, run `mcpkit run --transport http` behind the Lambda Web "
                    "Adapter: docs/deploy.md)"
                )
        # Behind API Gateway the Host is the gateway's, which checks it: no loopback bind to
        # guard (`OriginPolicy.for_bind`); an `allowed_hosts` given is still enforced.
        settings.setdefault("bind_host", "0.0.0.0")
        settings.setdefault("legacy_sse", False)  # its GET stream cannot be served here
        settings["json_response"] = settings["stateless"] = True
        self.app: McpHttpApp = server.http_app(path, store=store, **settings)
        self.app.post.request_check = _NoListen
        self.loop = asyncio.new_event_loop()
        self._life: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        # A runtime that exits (a local test run, `sam local`) ends the lifespan rather than
        # leaving its tasks for the interpreter to find pending.
        atexit.register(self.close)

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            request = read_event(event)
        except EventError as exc:
            return lambda_response(exc.shape, 400, _JSON, _error_body(str(exc), code=exc.code))
        if self._life is None:
            self.loop.run_until_complete(self._start())
        token = _EVENT.set((event, context))
        try:
            return self.loop.run_until_complete(self._invoke(request, _seconds_left(context)))
        finally:
            _EVENT.reset(token)

    def close(self) -> None:
        """End the server's lifespan and close the event loop."""
        if self.loop.is_closed():
            return
        if self._life is not None:
            self._stop.set()
            self.loop.run_until_complete(self._life)
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        atexit.unregister(self.close)

    async def _start(self) -> None:
        started = asyncio.Event()
        self._life = asyncio.create_task(self._hold_lifespan(started))
        waiting = asyncio.create_task(started.wait())
        # A lifespan that fails ends its task before `started`: raise its error here.
        await asyncio.wait((self._life, waiting), return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiting.cancel()
            failed, self._life = self._life, None  # the next invocation tries again
            await failed

    async def _hold_lifespan(self, started: asyncio.Event) -> None:
        # In a task of its own, which lives as long as the loop: what the lifespan starts
        # (the store's connections, background work) is bound to this task, not to the
        # first invocation's.
        async with self.app.lifespan():
            started.set()
            await self._stop.wait()

    async def _invoke(self, request: LambdaRequest, seconds: float | None) -> dict[str, Any]:
        exchange = _Exchange(request.body)
        serving = asyncio.ensure_future(self.app(request.scope(), exchange.receive, exchange.send))
        try:
            async with asyncio.timeout(seconds):
                await asyncio.shield(serving)
        except TimeoutError:
            # As a client that leaves: a 2026-07-28 call is cancelled (its POST's end).
            exchange.leave()
            done, _ = await asyncio.wait((serving,), timeout=_WIND_DOWN)
            if not done:
                serving.cancel()
                await asyncio.wait((serving,))
            # Whatever the app sent once cut off (an SSE stream ended with no answer, the
            # way 2026-07-28 says the server is gone) is not an answer to pass on.
            message = "the function's time ran out before the answer (raise its timeout)"
            return lambda_response(request.shape, 504, _JSON, _error_body(message))
        finally:
            exchange.leave()
        if exchange.status is None:
            return lambda_response(request.shape, 502, _JSON, _error_body("no answer"))
        return lambda_response(request.shape, exchange.status, exchange.headers, exchange.body)


class _Exchange:
    """One request's ASGI receive and send: the body at once, then (once the answer is
    complete, or the time ran out) the client leaving; the answer kept whole."""

    __slots__ = ("_body", "_chunks", "_gone", "headers", "status")

    def __init__(self, body: bytes) -> None:
        self._body: bytes | None = body
        self._gone = asyncio.Event()
        self._chunks: list[bytes] = []
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    def leave(self) -> None:
        self._gone.set()

    async def receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif message["type"] == "http.response.body":
            self._chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self._gone.set()  # nothing more to read: what a closed connection says


#: A `subscriptions/listen` is answered with a stream held open until the server or the
#: client ends it; an invocation answers once, so it would wait out its timeout.
_NO_LISTEN: Final = (
    "subscriptions/listen is not served by an AWS Lambda function: its answer is a "
    "stream held open, and an invocation answers once. Serve the server as a "
    "container for change notifications (docs/deploy.md)"
)


class _NoListen(MirrorCheck):
    """The app's check of a 2026-07-28 body (`MirrorCheck`, from what the session decoded),
    then a `subscriptions/listen` whose headers agree with it refused at once (-32601, HTTP
    404, as a method this endpoint does not serve) instead of left to time out. What the
    app refuses before (a malformed body, headers that say something else: -32020) it
    refuses as it would anywhere."""

    def request(
        self, request_id: int | str, method: str, params: Any, revision: str | None = None
    ) -> McpError | None:
        refused = super().request(request_id, method, params, revision)
        if refused is None and method == "subscriptions/listen":
            return McpError(METHOD_NOT_FOUND, _NO_LISTEN)
        return refused


@runtime_checkable
class LambdaContext(Protocol):
    """The part of Lambda's context object the handler reads (None: no deadline, a test)."""

    def get_remaining_time_in_millis(self) -> int: ...


def _seconds_left(context: object) -> float | None:
    if not isinstance(context, LambdaContext):
        return None
    seconds = max(0.0, context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN)
    return seconds if math.isfinite(seconds) else None


def _error_body(message: str, *, code: int = INTERNAL_ERROR) -> bytes:
    error = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    return json.dumps(error, separators=(",", ":")).encode()
