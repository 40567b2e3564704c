"""`RequestFacts`: the facts of the one request a `Context` serves, the base of `Context`.

Who sent it (the session, the client's info and capabilities, the `terms` it is served
under), what it is (id, method, `_meta`, progress token), what the transport knew of it
(`request_info`, the verified access token) and whether it was cancelled. Kept apart from
what a handler does with the request (`context`, `client_asks`) because it is the part every
request pays for: `Server.handle_request` builds one per request. `ctx.server` is typed
`ServerCore` (`mcpkit.server.core`: what a server is and declares, without the way into its
requests), which names no module that names the Context.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Protocol, Self

from mcpkit.errors import McpkitError
from mcpkit.protocol.capabilities import has_capability
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.protocol.terms import Terms, client_capabilities_of, client_info_of, revision_of
from mcpkit.server.catalog.calling.invoke import Injected
from mcpkit.types import ClientCapabilities, Implementation, RequestId

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.server.asking.round_trip import RoundTrip
    from mcpkit.server.core import ServerCore
    from mcpkit.server.session import Peer
    from mcpkit.stores.task_runner import TaskRun

__all__ = ["RequestFacts", "TaskBeginning"]

#: `RequestFacts._meta` before anything read it: the params still hold it.
_UNREAD: Any = object()


class TaskBeginning(Protocol):
    """How a call may still become a task (`mcpkit.server.tasks.extension.TaskStarter`)."""

    async def begin(self, ctx: Any) -> bool: ...


class RequestFacts(Injected):
    """The request a `Context` serves, and who sent it (`Context` adds what a handler may do)."""

    __slots__ = (
        "_meta",
        "_params",
        "method",
        "progress_token",
        "request_id",
        "request_info",
        "round_trip",
        "round_trip_params",
        "server",
        "session",
        "task",
        "task_starter",
        "terms",
    )

    def __init__(self, server: ServerCore, session: Peer, ev: RequestReceived) -> None:
        """The Context of the request `ev`, which `session`'s client sent, served by `server`."""
        self.server = server
        self.session = session
        self.request_id: RequestId = ev.request_id
        self.method = ev.method
        self.progress_token: RequestId | None = ev.progress_token
        #: The request's params, which `meta` reads its `_meta` from when first asked (most
        #: requests' handlers never ask; a 2026-07-28 params' `_meta` is decoded then too).
        self._params: Any = ev.params
        self._meta: dict[str, Any] | None = _UNREAD
        #: What the transport knew about the message this request came in: for Streamable
        #: HTTP its headers (`ctx.request_info.header("user-agent")`) and the peer's
        #: address; None over stdio and in memory.
        self.request_info: RequestInfo | None = ev.request_info
        #: The task this handler runs as, when the client called it as one (docs/tasks.md):
        #: its messages then travel with the task, and `ctx.task.id` names it.
        self.task: TaskRun | None = None
        #: What this request is served under (`mcpkit.protocol.terms`): the revision and
        #: what the client declared, its session's unless the request carried its own.
        terms = ev.terms
        self.terms: Terms[ClientCapabilities] | None = terms if terms is not None else session.terms
        #: The multi round-trip state of a 2026-07-28 request that may ask the client
        #: something (tools/call, prompts/get, resources/read): how `ctx.elicit()` and the
        #: other asks are answered there (`mcpkit.server.asking.round_trip`); None otherwise.
        self.round_trip: RoundTrip | None = None
        #: The params of a first round that may ask (most calls never do, and pay nothing
        #: for it): `take_round_trip` makes `round_trip` from them at the first ask.
        self.round_trip_params: Any = None
        #: Set while a 2026-07-28 call of a `task_begins="in_handler"` tool may still become
        #: a task (`ctx.begin_task()`, `mcpkit.server.tasks.extension`).
        self.task_starter: TaskBeginning | None = None

    if TYPE_CHECKING:
        #: The request's `_meta`, as the client sent it (read and set as an attribute: the
        #: property below, to type checkers).
        meta: dict[str, Any] | None
    else:

        @property
        def meta(self) -> dict[str, Any] | None:
            """The request's `_meta`, as the client sent it."""
            meta = self._meta
            if meta is _UNREAD:
                meta = self._meta = meta_of(self._params)
            return meta

        @meta.setter
        def meta(self, meta: dict[str, Any] | None) -> None:
            self._meta = meta

    def derive(self, *, server: ServerCore | None = None, task: TaskRun | None = None) -> Self:
        """The same request's Context, for another server (one mounted in this one) or run
        as `task`."""
        round_trip = self.take_round_trip()  # one, shared: its questions are the call's
        derived = copy.copy(self)  # (the `_meta` too: as read, or set, here; or still to read)
        if server is not None:
            derived.server = server
        if task is not None:
            derived.task = task
        derived.round_trip = round_trip
        derived.task_starter = None
        return derived

    def take_round_trip(self) -> RoundTrip | None:
        """The request's multi round-trip state, made now if it was put off."""
        found = self.round_trip
        if found is None and self.round_trip_params is not None:
            found = self.round_trip = self.server.round_trip(
                self.terms, self.method, self.round_trip_params, self.auth
            )
            self.round_trip_params = None
        return found

    def leave_round_trip(self) -> None:
        """From here on the request's questions do not end it (they wait in a task)."""
        self.round_trip = self.round_trip_params = None

    # ------------------------------------------------------------ request facts

    @property
    def client_info(self) -> Implementation | None:
        """What the client said of itself (`initialize`'s clientInfo)."""
        return client_info_of(self.terms)

    @property
    def client_capabilities(self) -> ClientCapabilities:
        """What the client declared it can do, for this request."""
        return client_capabilities_of(self.terms)

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

    def client_extension(self, extension_id: str) -> dict[str, Any] | None:
        """The settings the client declared for an extension (SEP-2133: its
        `capabilities.extensions` entry, `{}` when it has none), or None when it did not
        declare it: `ctx.client_extension("io.modelcontextprotocol/ui")`. The request's
        own declaration under 2026-07-28, the session's under 2025-11-25."""
        return (self.client_capabilities.extensions or {}).get(extension_id)

    @property
    def protocol_version(self) -> str | None:
        """The revision this request is served under; None only before the handshake."""
        return revision_of(self.terms)

    @property
    def cancelled(self) -> bool:
        """Whether the client cancelled this request, or its task (the handler is also
        cancelled)."""
        if self.task is not None:
            return self.task.cancelled
        return not self.session.is_inflight(self.request_id)

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
