"""`Context`: what a handler may ask of the session while it serves one request.

Injected into any handler parameter annotated `Context`. It reports progress, sends log
messages, asks the client for sampling, elicitation and roots, and tells whether the request
was cancelled. Everything it sends is tagged with the request, so on HTTP it travels on that
request's stream. `request_info` is what the transport knew about the message the request
came in (HTTP headers, the peer's address), None over stdio and in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

import msgspec

from mcpkit.errors import ElicitationContentInvalid, McpkitError
from mcpkit.protocol.capabilities import TASK_CAPABILITY, has_capability
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.protocol.terms import Terms
from mcpkit.server.asks import Asking, SessionAsking, TaskAsking
from mcpkit.server.task_requests import TaskOption, ask_as_task, cancel_quietly
from mcpkit.server.task_requests import metadata as task_metadata
from mcpkit.types import (
    BlobResourceContents,
    ClientCapabilities,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitResult,
    Implementation,
    ListRootsResult,
    ModelPreferences,
    RequestId,
    Root,
    SamplingMessage,
    TextContent,
    TextResourceContents,
    Tool,
    ToolChoice,
)

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.server.server import Server
    from mcpkit.server.session import ServerSessionHandle
    from mcpkit.stores.task_runner import Peer, TaskRun

__all__ = ["Context", "ElicitationResult"]

T = TypeVar("T")
_NO_CAPABILITIES = ClientCapabilities()


@dataclass(frozen=True, slots=True)
class ElicitationResult(Generic[T]):
    """The user's answer to a form elicitation: `data` is set when `action == "accept"`."""

    action: Literal["accept", "decline", "cancel"]
    data: T | None
    raw: ElicitResult


class Context:
    """Per-request access to the session (exactly one Context class exists in mcpkit)."""

    __slots__ = (
        "meta",
        "method",
        "progress_token",
        "request_id",
        "request_info",
        "server",
        "session",
        "task",
        "terms",
    )

    def __init__(
        self,
        server: Server,
        session: ServerSessionHandle,
        request_id: RequestId,
        method: str,
        progress_token: RequestId | None = None,
        meta: dict[str, Any] | None = None,
        request_info: RequestInfo | None = None,
        task: TaskRun | None = None,
        terms: Terms[ClientCapabilities] | None = None,
    ) -> None:
        self.server = server
        self.session = session
        self.request_id = request_id
        self.method = method
        self.progress_token = progress_token
        self.meta = meta
        #: What the transport knew about the message this request came in: for Streamable
        #: HTTP its headers (`ctx.request_info.header("user-agent")`) and the peer's
        #: address; None over stdio and in memory.
        self.request_info = request_info
        #: The task this handler runs as, when the client called it as one (docs/tasks.md):
        #: its messages then travel with the task, and `ctx.task.id` names it.
        self.task = task
        #: What this request is served under (`mcpkit.protocol.terms`): the revision and
        #: what the client declared, its session's unless the request carried its own.
        self.terms = terms if terms is not None else session.protocol.terms

    @classmethod
    def of(cls, server: Server, session: ServerSessionHandle, ev: RequestReceived) -> Context:
        """The Context of the request `ev`, which `session`'s client sent."""
        meta = getattr(ev.params, "meta", None)
        # (positional, task None: one Context per request)
        return cls(
            server,
            session,
            ev.request_id,
            ev.method,
            ev.progress_token,
            meta,
            ev.request_info,
            None,
            ev.terms,
        )

    def derive(self, *, server: Server | None = None, task: TaskRun | None = None) -> Context:
        """The same request's Context, for another server (one mounted in this one) or run
        as `task`."""
        return Context(
            self.server if server is None else server,
            self.session,
            self.request_id,
            self.method,
            self.progress_token,
            self.meta,
            self.request_info,
            self.task if task is None else task,
            self.terms,
        )

    # ------------------------------------------------------------ request facts

    @property
    def client_info(self) -> Implementation | None:
        """What the client said of itself (`initialize`'s clientInfo)."""
        terms = self.terms
        return None if terms is None else terms.peer_info

    @property
    def client_capabilities(self) -> ClientCapabilities:
        """What the client declared it can do, for this request."""
        terms = self.terms
        return _NO_CAPABILITIES if terms is None else terms.peer_capabilities

    def client_supports(self, capability: str) -> bool:
        """Whether the client declared a capability, by dotted path: "sampling",
        "sampling.tools", "elicitation.form", "elicitation.url", "roots"...

        An empty `elicitation` object means form mode, as the spec keeps for older clients.
        """
        caps = self.client_capabilities
        if capability == "elicitation.form":
            el = caps.elicitation
            return el is not None and (el.form is not None or el.url is None)
        return has_capability(caps, tuple(capability.split(".")))

    @property
    def protocol_version(self) -> str | None:
        """The revision this request is served under; None only before the handshake."""
        terms = self.terms
        return None if terms is None else terms.revision

    @property
    def cancelled(self) -> bool:
        """Whether the client cancelled this request, or its task (the handler is also
        cancelled)."""
        if self.task is not None:
            return self.task.cancelled
        return not self.session.protocol.is_inflight(self.request_id)

    @property
    def auth(self) -> AccessToken | None:
        """The verified access token of this request (`subject`, `client_id`, `scopes`,
        `claims`...) when the server is protected (docs/auth.md); None otherwise, and always
        over stdio and in memory. The token string itself is never kept: never pass a
        client's token on to another service (spec: basic/authorization)."""
        info = self.request_info
        token: AccessToken | None = None if info is None else info.auth
        return token

    @property
    def lifespan_state(self) -> Any:
        """What the server's lifespan hook yielded.

        Raises McpkitError when the server has a lifespan hook that is not running: an HTTP
        app mounted in another ASGI app gets no lifespan events of its own (Starlette and
        FastAPI send them to the outer app only), and None here would fail far from the cause.
        """
        server = self.server
        if server.lifespan is not None and not server.is_running:
            raise McpkitError(
                f"server {server.name!r} has a lifespan hook that is not running, so "
                "ctx.lifespan_state has nothing to give: an HTTP app mounted in another ASGI "
                "app must be run from the outer app's lifespan, e.g. Starlette(..., "
                'lifespan=lambda _: mcp_app.lifespan()) (docs/http.md, "Inside another ASGI '
                'app")'
            )
        return server.lifespan_state

    # --------------------------------------------------------------- progress

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress, if the client asked for it (basic/utilities/progress)."""
        token = self.progress_token
        if token is None:
            return
        if self.task is not None:
            await self.task.progress(token, progress, total, message)
            return
        self.session.protocol.send_progress(self.request_id, token, progress, total, message)
        await self.session.connection.flush()

    async def close_sse_stream(self, *, retry: float | None = None) -> bool:
        """Close the HTTP connection carrying this request's messages now, without ending the
        request (SEP-1699): a long call then survives proxies that cut idle connections. The
        client reconnects after `retry` seconds (default: the app's `sse_retry`) and gets what
        was sent meanwhile, then the result. False where nothing was closed: not Streamable
        HTTP, a JSON answer, or a client older than 2025-11-25 (which may not reconnect)."""
        if retry is not None and not retry >= 0:
            raise ValueError(f"retry must be a number of seconds >= 0, not {retry!r}")
        retry_ms = None if retry is None else round(retry * 1000)
        if self.task is not None:  # a task's messages have no stream of their own
            return False
        return await self.session.connection.close_stream(self.request_id, retry_ms)

    # ---------------------------------------------------------------- logging

    async def log(self, level: str, data: Any, *, logger: str | None = None) -> None:
        """Send a log message to the client (server/utilities/logging)."""
        if self.task is None:
            await self.session.log(level, data, logger=logger, related=self.request_id)
            return
        params = self.session.log_params(level, data, logger)
        if params is not None:
            await self.task.notify("notifications/message", params)

    async def debug(self, data: Any, *, logger: str | None = None) -> None:
        await self.log("debug", data, logger=logger)

    async def info(self, data: Any, *, logger: str | None = None) -> None:
        await self.log("info", data, logger=logger)

    async def warning(self, data: Any, *, logger: str | None = None) -> None:
        await self.log("warning", data, logger=logger)

    async def error(self, data: Any, *, logger: str | None = None) -> None:
        await self.log("error", data, logger=logger)

    # ---------------------------------------------------------------- sampling

    async def sample(
        self,
        messages: str | Sequence[SamplingMessage],
        *,
        max_tokens: int = 1024,
        system_prompt: str | None = None,
        temperature: float | None = None,
        stop_sequences: list[str] | None = None,
        model_preferences: ModelPreferences | None = None,
        include_context: Literal["none", "thisServer", "allServers"] | None = None,
        tools: Sequence[Tool] | None = None,
        tool_choice: ToolChoice | None = None,
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,
        task: TaskOption = False,
    ) -> CreateMessageResult:
        """Ask the client's LLM for a message (client/sampling; tools per SEP-1577).

        `task` (True, a ttl in ms, or a `TaskMetadata`) asks the client to run the request as
        a task, where it declared support (a plain request otherwise: the result is the same);
        `timeout` (default: the server's `request_timeout`) then bounds the whole wait, after
        which the client's task is cancelled, as it is when the tool is."""
        if isinstance(messages, str):
            messages = [SamplingMessage(role="user", content=TextContent(text=messages))]
        params = CreateMessageRequestParams(
            messages=list(messages),
            max_tokens=max_tokens,
            system_prompt=system_prompt,
            temperature=temperature,
            stop_sequences=stop_sequences,
            model_preferences=model_preferences,
            include_context=include_context,
            tools=list(tools) if tools is not None else None,
            tool_choice=tool_choice,
            metadata=metadata,
        )
        result: CreateMessageResult = await self._ask(
            "sampling/createMessage", params, timeout, task, CreateMessageResult
        )
        return result

    # ------------------------------------------------------------- elicitation

    @overload
    async def elicit(
        self,
        message: str,
        schema: type[T],
        *,
        timeout: float | None = None,
        task: TaskOption = False,
    ) -> ElicitationResult[T]: ...

    @overload
    async def elicit(
        self,
        message: str,
        schema: dict[str, Any],
        *,
        timeout: float | None = None,
        task: TaskOption = False,
    ) -> ElicitationResult[dict[str, Any]]: ...

    async def elicit(
        self,
        message: str,
        schema: Any,
        *,
        timeout: float | None = None,
        task: TaskOption = False,
    ) -> ElicitationResult[Any]:
        """Ask the user for structured input with a form (client/elicitation, form mode).

        `schema` is a dataclass, TypedDict or msgspec.Struct of primitive fields (or a raw
        restricted JSON Schema dict); accepted content is validated and converted to it.
        `task` and `timeout` are as for `sample`.
        """
        from mcpkit.server.elicitation_schema import validate_content

        params = {"mode": "form", "message": message, "requestedSchema": _form_schema(schema)}
        result: ElicitResult = await self._ask(
            "elicitation/create", params, timeout, task, ElicitResult
        )
        data: Any = None
        if result.action == "accept":
            try:
                data = validate_content(schema, result.content or {})
            except (ValueError, TypeError) as exc:
                raise ElicitationContentInvalid(
                    f"the client's elicitation content is invalid: {exc}"
                ) from exc
        return ElicitationResult(result.action, data, result)

    async def elicit_url(
        self,
        message: str,
        url: str,
        elicitation_id: str,
        *,
        timeout: float | None = None,
        task: TaskOption = False,
    ) -> ElicitResult:
        """Send the user to `url` for out-of-band interaction (client/elicitation, URL mode).

        The returned action only says whether the user agreed to open the URL; call
        `complete_elicitation(elicitation_id)` once the interaction has finished. `task` and
        `timeout` are as for `sample`.
        """
        params = {"mode": "url", "message": message, "url": url, "elicitationId": elicitation_id}
        result: ElicitResult = await self._ask(
            "elicitation/create", params, timeout, task, ElicitResult
        )
        return result

    async def complete_elicitation(self, elicitation_id: str) -> None:
        """Tell the client a URL elicitation finished (`notifications/elicitation/complete`)."""
        await self.session.notify(
            "notifications/elicitation/complete", {"elicitationId": elicitation_id}
        )

    # --------------------------------------------------------------- resources

    async def read_resource(self, uri: str) -> list[TextResourceContents | BlobResourceContents]:
        """Read one of this server's own resources (or a template's match), as a client's
        `resources/read` would get it: the same contents, the same -32002 for an unknown URI,
        and the caller's scopes checked on a protected server. Sent nowhere: the function
        runs here, with this Context."""
        result = await self.server.read_resource(self, uri)
        return list(result.contents)

    # ------------------------------------------------------------------- roots

    async def list_roots(self, *, timeout: float | None = None) -> list[Root]:
        """The client's roots (client/roots); needs its `roots` capability."""
        result: ListRootsResult = await self._ask("roots/list", None, timeout)
        return list(result.roots)

    def _asking(self) -> Asking:
        """The way this request asks the client (`mcpkit.server.asks`)."""
        if self.task is not None:
            return TaskAsking(
                self.session, self.task, self.server.asks, self.server.request_timeout
            )
        return SessionAsking(self.session, self.request_id)

    async def _ask(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        task: TaskOption = False,
        result_type: Any = None,
    ) -> Any:
        """Ask the client `method` the way this request asks (`_asking`); run by the client
        as a task of its own when `task` asks for it and the client declared it
        ("Capabilities"), a plain request otherwise."""
        asking = self._asking()
        metadata = None if task is False else task_metadata(task)
        if metadata is None or not has_capability(
            self.client_capabilities, TASK_CAPABILITY[method]
        ):
            return await asking.ask(method, params, timeout, result_type)
        with self.server.asks.hold(self.session):  # max_pending_client_requests
            raw: dict[str, Any] = msgspec.to_builtins(params)
            self.session.protocol.check_outbound_request(method, {**raw, "task": metadata})
            exchange = ask_as_task(
                asking.send,
                self._cancel_client_task,
                method,
                raw,
                result_type,
                task=metadata,
                timeout=self.server.request_timeout if timeout is None else timeout,
            )
            async with asking.asking():
                return await exchange

    async def _cancel_client_task(self, task_id: str) -> None:
        if not self.client_supports("tasks.cancel"):
            return
        # Not through the task's request(): that would wait for its requestor to call
        # tasks/result, and a cancelled task's requestor has stopped.
        peer: Peer = self.session.connection
        related = self.request_id if self.session.protocol.is_inflight(self.request_id) else None
        if self.task is not None:
            waiter = self.task.current()
            peer = waiter.peer if waiter is not None else self.task.peer
            related = waiter.request_id if waiter is not None else None
        await cancel_quietly(peer, related, task_id)


def _form_schema(schema: Any) -> dict[str, Any]:
    """The `requestedSchema` for `schema`: a raw JSON Schema dict is checked and sent as it is."""
    from mcpkit.server.elicitation_schema import check_requested_schema, requested_schema

    if isinstance(schema, dict):
        raw = cast("dict[str, Any]", schema)
        check_requested_schema(raw)
        return raw
    return requested_schema(schema)
