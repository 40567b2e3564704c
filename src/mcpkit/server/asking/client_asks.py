"""`ClientAsks`: what a handler may ask the client while it serves a request, a base of
`Context`: a message from its LLM (`sample`), input from its user (`elicit`, `elicit_url`),
its roots (`list_roots`).

Each ask travels the way its request does (`mcpkit.server.asking.asks`: on the live session, or
through the task the handler runs as), is bounded by the server's `request_timeout` and
`max_pending_client_requests`, and may ask the client to run it as a task of its own. Apart
from `context` because asking is the one part of a Context with a protocol of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

import msgspec

from mcpkit.errors import ConnectionClosed, ElicitationContentInvalid
from mcpkit.protocol.capabilities import TASK_CAPABILITY, has_capability
from mcpkit.server.asking.asks import Asking, DirectAsking, PolledTaskAsking, TaskAsking
from mcpkit.server.asking.fallback import answer_or_fall_back
from mcpkit.server.asking.round_trip import RoundTripAsking
from mcpkit.server.catalog.calling.ask_fallback import current_fallback
from mcpkit.server.request_facts import RequestFacts
from mcpkit.server.session import ServerSessionHandle
from mcpkit.server.tasks.requestor import TaskOption, ask_as_task, cancel_quietly
from mcpkit.server.tasks.requestor import metadata as task_metadata
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitResult,
    ListRootsResult,
    ModelPreferences,
    RequestId,
    Root,
    SamplingMessage,
    TextContent,
    Tool,
    ToolChoice,
)

if TYPE_CHECKING:
    from mcpkit.stores.task_runner import Peer

__all__ = ["ClientAsks", "ElicitationResult"]

T = TypeVar("T")  # what an accepted form is converted to: the `schema` given to `elicit`


@dataclass(frozen=True, slots=True)
class ElicitationResult(Generic[T]):
    """The user's answer to a form elicitation: `data` is set when `action == "accept"`."""

    action: Literal["accept", "decline", "cancel"]
    data: T | None
    raw: ElicitResult  # the client's answer as it came, `_meta` included


class ClientAsks(RequestFacts):
    """Requests to the client on behalf of the request a `Context` serves.

    Under 2025-11-25 each ask is a request on the session, related to the request being
    served (over HTTP it travels on that request's stream). Under 2026-07-28 there is no
    channel back: an ask becomes a question in the request's InputRequiredResult, and the
    handler runs again with the answers (`round_trip`). A handler reads the same either
    way; `key` names a question where it must stay stable across those runs.
    """

    __slots__ = ()

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
        key: str | None = None,
    ) -> CreateMessageResult:
        """Ask the client's LLM for a message (client/sampling; tools per SEP-1577).

        `task` (True, a ttl in ms, or a `TaskMetadata`) asks the client to run the request as
        a task, where it declared support (a plain request otherwise: the result is the same);
        `timeout` (default: the server's `request_timeout`) then bounds the whole wait, after
        which the client's task is cancelled, as it is when the tool is. `key` names the
        question in a 2026-07-28 InputRequiredResult (default: its number, "q1", "q2"...;
        docs/server.md, "Tools that ask")."""
        # A plain string is the common case: one message from the user's side.
        if isinstance(messages, str):
            messages = [SamplingMessage(role="user", content=TextContent(text=messages))]
        # Lists copied: the caller's own may change while the request waits to be sent.
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
            "sampling/createMessage", params, timeout, task, CreateMessageResult, key
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
        key: str | None = None,
    ) -> ElicitationResult[T]: ...

    @overload
    async def elicit(
        self,
        message: str,
        schema: dict[str, Any],
        *,
        timeout: float | None = None,
        task: TaskOption = False,
        key: str | None = None,
    ) -> ElicitationResult[dict[str, Any]]: ...

    @overload
    async def elicit(
        self,
        message: str,
        schema: Sequence[str],
        *,
        timeout: float | None = None,
        task: TaskOption = False,
        key: str | None = None,
    ) -> ElicitationResult[str]: ...

    @overload
    async def elicit(
        self,
        message: str,
        schema: object,
        *,
        timeout: float | None = None,
        task: TaskOption = False,
        key: str | None = None,
    ) -> ElicitationResult[Any]: ...

    async def elicit(
        self,
        message: str,
        schema: Any,
        *,
        timeout: float | None = None,
        task: TaskOption = False,
        key: str | None = None,
    ) -> ElicitationResult[Any]:
        """Ask the user for structured input with a form (client/elicitation, form mode).

        `schema` is a dataclass, TypedDict or msgspec.Struct of primitive fields (or a raw
        restricted JSON Schema dict); accepted content is validated and converted to it. For
        one value, `schema` is `str`, `int`, `float`, `bool`, a date type, a `Literal` of
        strings, a string `Enum`, or a list of strings to choose from: it is asked as a form
        of one property (`value`) and `data` is the value itself.
        `task`, `timeout` and `key` are as for `sample`.
        """
        # Imported at the call: a server whose tools never elicit never loads them.
        from mcpkit.server.asking.elicitation_value import read_value, value_hint, value_schema
        from mcpkit.server.elicitation_schema import validate_content

        # One value (`str`, a Literal...) is asked as a form of one property, since the
        # spec's requestedSchema is always an object; `data` is then the value alone.
        hint = value_hint(schema)
        requested = _form_schema(schema) if hint is None else value_schema(hint)
        params = {"mode": "form", "message": message, "requestedSchema": requested}
        ask = functools.partial(
            self._ask, "elicitation/create", params, timeout, task, ElicitResult, key
        )
        # A tool registered with when_cannot_ask= answers through its fallback where the
        # client cannot; any other asks as it is.
        fallback = current_fallback(self)  # (a tool's when_cannot_ask=)
        result: ElicitResult = await (
            ask()
            if fallback is None
            else answer_or_fall_back(self, fallback, message, requested, ask)
        )
        data: Any = None
        # Only an accepted form has content (client/elicitation, "Response Actions").
        # It is checked against the schema asked for: a client's form may not have
        # enforced it, and the handler's types must hold.
        if result.action == "accept":
            content = result.content or {}  # accepted with no content: an empty form
            try:
                data = (
                    validate_content(schema, content) if hint is None else read_value(hint, content)
                )
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
        """Tell the client a URL elicitation finished (`notifications/elicitation/complete`),
        so it may retry what waited on it (client/elicitation, "Completion Notifications
        for URL Mode Elicitation")."""
        await self.session.notify(
            "notifications/elicitation/complete", {"elicitationId": elicitation_id}
        )

    # ---------------------------------------------------------------- passing on

    async def ask_client(
        self,
        method: str,
        params: Any,
        result_type: Any,
        *,
        timeout: float | None = None,
        key: str | None = None,
    ) -> Any:
        """Ask the client `method` (sampling/createMessage, elicitation/create, roots/list)
        with `params` as they are, the way this request asks (a request on the session, or a
        question of a 2026-07-28 round), and return its answer as `result_type`: for a
        handler passing on another server's question, as a mounted proxy does. `key` is as
        for `sample`."""
        return await self._ask(method, params, timeout, False, result_type, key)

    # ------------------------------------------------------------------- roots

    async def list_roots(
        self, *, timeout: float | None = None, key: str | None = None
    ) -> list[Root]:
        """The client's roots (client/roots); needs its `roots` capability. `key` is as for
        `sample`."""
        result: ListRootsResult = await self._ask(
            "roots/list", None, timeout, result_type=ListRootsResult, key=key
        )
        return list(result.roots)  # a list of the caller's own, free to change

    def _asking(self, method: str, key: str | None = None) -> Asking:
        """The way this request asks the client `method` (`mcpkit.server.asking.asks`); `key`
        names the question in a 2026-07-28 InputRequiredResult."""
        # In order: a 2026-07-28 request asks within its result; a task polled by its
        # client asks through its status; a task on a session asks on that session,
        # related to the task; a plain request asks on its session, related to itself.
        round_trip = self.take_round_trip()
        if round_trip is not None:
            return RoundTripAsking(round_trip, key)
        if self.task is not None and self.task.polled:
            return PolledTaskAsking(
                self.task, self.client_capabilities, key, self.server.request_timeout
            )
        if self.task is not None:
            return TaskAsking(
                self._session_for(method), self.task, self.server.asks, self.server.request_timeout
            )
        return DirectAsking(self._session_for(method), self.request_id)

    def _session_for(self, method: str) -> ServerSessionHandle:
        """The session a request to the client goes on; ConnectionClosed for a request that
        has none (a modern one: 2026-07-28), whose questions travel in its result."""
        session = self.session
        # ConnectionClosed, as for a session gone: either way there is no way to send it.
        if not isinstance(session, ServerSessionHandle):
            raise ConnectionClosed(
                f"cannot send {method}: a modern request (2026-07-28) has "
                "no channel back for a request to its client; ctx.elicit(), ctx.sample() and "
                "ctx.list_roots() ask within the result instead"
            )
        return session

    async def _ask(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        task: TaskOption = False,
        result_type: Any = None,
        key: str | None = None,
    ) -> Any:
        """Ask the client `method` the way this request asks (`_asking`); run by the client
        as a task of its own when `task` asks for it and the client declared it
        ("Capabilities"), a plain request otherwise (always, under 2026-07-28).

        Bounded by `timeout` (default: the server's `request_timeout`) and by the server's
        `max_pending_client_requests`; the answer is decoded as `result_type`.
        """
        asking = self._asking(method, key)
        # A question in a result or a task's status cannot itself be run as a task.
        if self.round_trip is not None or isinstance(asking, PolledTaskAsking):
            return await asking.ask(method, params, timeout, result_type)
        metadata = None if task is False else task_metadata(task)
        # A client that did not declare tasks for this method gets a plain request: the
        # answer is the same, only the client's way of running it differs.
        if metadata is None or not has_capability(
            self.client_capabilities, TASK_CAPABILITY[method]
        ):
            return await asking.ask(method, params, timeout, result_type)
        session = self._session_for(method)  # (the ways that ask on a task's behalf returned)
        # The slot is held for the task's whole life, not only its creating request: a
        # task the client runs is an ask still pending.
        with self.server.asks.hold(session):  # max_pending_client_requests
            raw: dict[str, Any] = msgspec.to_builtins(params)
            # Checked before anything is sent, as every request the session sends is.
            session.check_outbound_request(method, {**raw, "task": metadata})
            exchange = ask_as_task(
                asking.send,
                self._cancel_client_task,
                method,
                raw,
                result_type,
                task=metadata,
                timeout=self.server.request_timeout if timeout is None else timeout,
            )
            # Held around the whole exchange, its several requests (`Asking.asking`).
            async with asking.asking():
                return await exchange

    async def _cancel_client_task(self, task_id: str) -> None:
        """Cancel the task the client runs for one of our asks (the tool was cancelled or
        the wait timed out); quietly, since the client may have finished it already."""
        # A client that cannot cancel tasks gets no tasks/cancel: its task runs out alone.
        if not self.client_supports("tasks.cancel"):
            return
        # Not through the task's request(): that would wait for its requestor to call
        # tasks/result, and a cancelled task's requestor has stopped.
        waiter = None if self.task is None else self.task.current()
        peer: Peer
        related: RequestId | None
        if waiter is not None:  # on the stream of the tasks/result that waits for the task
            peer, related = waiter.peer, waiter.request_id
        else:  # on the session, related to this request while it is served
            peer = self._session_for("tasks/cancel").connection
            inflight = self.task is None and self.session.is_inflight(self.request_id)
            related = self.request_id if inflight else None
        await cancel_quietly(peer, related, task_id)


def _form_schema(schema: Any) -> dict[str, Any]:
    """The `requestedSchema` for `schema`: a raw JSON Schema dict is checked and sent as it is."""
    from mcpkit.server.elicitation_checks import check_requested_schema
    from mcpkit.server.elicitation_schema import requested_schema

    # A raw schema is checked against the spec's restricted subset (flat, primitive
    # properties) before it is sent: a client would refuse it, or render it wrongly.
    if isinstance(schema, dict):
        raw = cast("dict[str, Any]", schema)
        check_requested_schema(raw)
        return raw
    return requested_schema(schema)
