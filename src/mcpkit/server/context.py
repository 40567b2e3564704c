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
from mcpkit.protocol.events import RequestInfo
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
    TaskMetadata,
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

    # ------------------------------------------------------------ session facts

    @property
    def client_info(self) -> Implementation | None:
        return self.session.client_info

    @property
    def client_capabilities(self) -> ClientCapabilities:
        return self.session.client_capabilities

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
        return self.session.protocol_version

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
        if self.task is None:
            return await self.session.list_roots(timeout=timeout, related=self.request_id)
        result: ListRootsResult = await self._ask("roots/list", None, timeout)
        return list(result.roots)

    async def _ask(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        task: TaskOption = False,
        result_type: Any = None,
    ) -> Any:
        """A request to the client about this request, or on behalf of its task (which then
        waits in `input_required` for the client to call tasks/result: docs/tasks.md); run by
        the client as a task of its own when asked for and declared ("Capabilities")."""
        metadata = None if task is False else task_metadata(task)
        as_task = metadata is not None and has_capability(
            self.client_capabilities, TASK_CAPABILITY[method]
        )
        if self.task is None and not as_task:  # (counted by session.request)
            return await self.session.request(
                method, params, timeout=timeout, related=self.request_id
            )
        with self.server.asks.hold(self.session):  # max_pending_client_requests
            if as_task:
                assert metadata is not None
                return await self._ask_as_task(method, params, timeout, metadata, result_type)
            if timeout is None:
                timeout = self.server.request_timeout
            assert self.task is not None
            self.session.protocol.check_outbound_request(method, params)
            return await self.task.request(method, params, timeout=timeout)

    async def _ask_as_task(
        self, method: str, params: Any, timeout: float | None, task: TaskMetadata, result_type: Any
    ) -> Any:
        raw: dict[str, Any] = msgspec.to_builtins(params)
        self.session.protocol.check_outbound_request(method, {**raw, "task": task})
        if timeout is None:
            timeout = self.server.request_timeout
        asking = ask_as_task(
            self._send_for_task,
            self._cancel_client_task,
            method,
            raw,
            result_type,
            task=task,
            timeout=timeout,
        )
        if self.task is None:
            return await asking
        async with self.task.needing_input():  # one input_required for the whole exchange
            return await asking

    async def _send_for_task(self, method: str, params: Any, result_type: Any) -> Any:
        """One request of a task-augmented ask, routed as this context's requests are (over
        HTTP: this request's stream, or the stream of the open tasks/result of its task)."""
        if self.task is not None:
            return await self.task.request(
                method,
                params,
                timeout=None,
                result_type=result_type,
                related_task=not method.startswith("tasks/"),  # those name their task
            )
        return await self.session.connection.request(
            method, params, related=self.request_id, result_type=result_type
        )

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
