"""The client's side of the modern revision (2026-07-28): the `_meta` every request carries,
and multi round-trip requests (MRTR); what `server/discover` answers is read by
`mcpkit.client.discover_answer`.

Spec: basic/index "_meta" (the per-request protocol fields), basic/versioning (no handshake;
`UnsupportedProtocolVersionError`), server/discover, basic/patterns/mrtr. A request is sent
with our revision, capabilities, info and (if the user set one) log level in its `_meta`; a
result is "complete" unless its `resultType` says "input_required" (absent means complete, as
from an earlier server), in which case each of its `inputRequests` is answered with the
handlers the user registered (sampling, elicitation, roots) and the ORIGINAL request is sent
again, as a new request, with `inputResponses` and the `requestState` echoed verbatim.

Complete results decode into the same types the 2025-11-25 client returns (`ToolResult`,
`ListToolsResult`...), so code using the client reads them the same whichever era it speaks.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, cast

import msgspec

from mcpkit.client.callbacks import ServerRequestRouter
from mcpkit.client.results import RESULT_TYPES, read_result
from mcpkit.errors import McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.protocol.modern import (
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
    REVISION_KEY,
    SERVER_INFO_KEY,
)
from mcpkit.runtime.task_augmented import quietly
from mcpkit.types import (
    CreateMessageRequestParams,
    ElicitRequestParams,
    Implementation,
)
from mcpkit.types.methods import LATEST_REVISION, methods_for

__all__ = [
    "CLIENT_CAPABILITIES",
    "CLIENT_INFO",
    "DEFAULT_MAX_INPUT_ROUNDS",
    "LOG_LEVEL",
    "PROTOCOL_VERSION",
    "SERVER_INFO",
    "ModernCalls",
]

# The per-request `_meta` keys (basic/index), named once for both sides.
PROTOCOL_VERSION: Final = REVISION_KEY
CLIENT_CAPABILITIES: Final = CLIENT_CAPABILITIES_KEY
CLIENT_INFO: Final = CLIENT_INFO_KEY
LOG_LEVEL: Final = LOG_LEVEL_KEY
SERVER_INFO: Final = SERVER_INFO_KEY
#: How many `InputRequiredResult`s one call answers before it gives up: a server "MAY"
#: ask again and again (basic/patterns/mrtr), so a bound is ours.
DEFAULT_MAX_INPUT_ROUNDS: Final = 8


class _Head(msgspec.Struct):
    result_type: str | None = msgspec.field(default=None, name="resultType")
    ttl_ms: float | None = msgspec.field(default=None, name="ttlMs")  # schema.ts: number


class _InputRequired(msgspec.Struct):
    input_requests: dict[str, Any] | None = msgspec.field(default=None, name="inputRequests")
    request_state: str | None = msgspec.field(default=None, name="requestState")


class _InputRequest(msgspec.Struct):
    method: str
    params: Any = None


_HEAD: Final = msgspec.json.Decoder(_Head)
_INPUT_REQUIRED: Final = msgspec.json.Decoder(_InputRequired)
_LATEST_METHODS: Final = methods_for(LATEST_REVISION)
TASKS_EXTENSION: Final = "io.modelcontextprotocol/tasks"
_MAX_POLLS: Final = 1_000_000  # (each waits its poll interval: a bound, not a budget)


class _Task(msgspec.Struct, kw_only=True):
    """A task of the tasks extension as tasks/get (and a call's task handle) has it."""

    task_id: str = msgspec.field(name="taskId")
    status: str
    poll_interval_ms: float | None = msgspec.field(default=None, name="pollIntervalMs")
    result: Any = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = msgspec.field(default=None, name="inputRequests")


_TASK: Final = msgspec.json.Decoder(_Task)

#: The list results a client may keep until their `ttlMs` passes (server/utilities/caching),
#: by the notification that makes them stale at once.
CACHED_LISTS: Final[Mapping[str, str]] = {
    "tools/list": "notifications/tools/list_changed",
    "prompts/list": "notifications/prompts/list_changed",
    "resources/list": "notifications/resources/list_changed",
    "resources/templates/list": "notifications/resources/list_changed",
}
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    dec = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp)
    return dec


def _as_dict(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(cast("dict[str, Any]", params))
    found: dict[str, Any] = msgspec.to_builtins(params)
    return found


Send = Callable[[str, dict[str, Any]], Awaitable[msgspec.Raw]]


class ModernCalls:
    """Sends requests in a modern revision: adds the `_meta`, answers `InputRequiredResult`s,
    decodes complete results. One per connected `Client` that speaks that revision."""

    def __init__(
        self,
        revision: str,
        capabilities: Any,
        client_info: Implementation,
        router: ServerRequestRouter,
        *,
        max_input_rounds: int = DEFAULT_MAX_INPUT_ROUNDS,
    ) -> None:
        self.revision = revision
        self._capabilities: dict[str, Any] = msgspec.to_builtins(capabilities)
        # The tasks extension (SEP-2663): a call the server runs as a task is followed to its
        # end here (`_follow_task`), so the caller gets the result as from any call.
        self._capabilities.pop("tasks", None)  # (2025-11-25's; 2026 has the extension)
        extensions = dict(self._capabilities.get("extensions") or {})
        extensions.setdefault(TASKS_EXTENSION, {})
        self._capabilities["extensions"] = extensions
        self._client_info: dict[str, Any] = msgspec.to_builtins(client_info)
        self.router = router
        self.max_input_rounds = max_input_rounds
        #: Why the server/discover probe failed (its error), when it did: a client pinned to
        #: this era says so, not only that the server does not speak it.
        self.probe_error: McpError | None = None
        #: Sent as `io.modelcontextprotocol/logLevel` (server/utilities/logging): there is
        #: no `logging/setLevel` in this revision; None sends none, and the server logs none.
        self.log_level: str | None = None
        #: (method, cursor, result type) -> (when it goes stale, on `clock`; the result).
        self._cached: dict[tuple[str, object, object], tuple[float, Any]] = {}
        self.clock: Callable[[], float] = time.monotonic

    def drop_cached(self, notification: str) -> None:
        """Forget the lists a `notifications/*/list_changed` makes stale ("Interaction with
        listChanged": the notification invalidates the cached response)."""
        for key in [k for k in self._cached if CACHED_LISTS[k[0]] == notification]:
            del self._cached[key]

    def meta(self) -> dict[str, Any]:
        """The protocol fields of every request's `_meta` (basic/index, "_meta")."""
        meta: dict[str, Any] = {
            PROTOCOL_VERSION: self.revision,
            CLIENT_CAPABILITIES: self._capabilities,
            CLIENT_INFO: self._client_info,
        }
        if self.log_level is not None:
            meta[LOG_LEVEL] = self.log_level
        return meta

    def params(self, params: Any) -> dict[str, Any]:
        """`params` as a dict whose `_meta` also has our protocol fields (the caller's own
        `_meta` keys are kept; ours win, as the revision must be the one we speak)."""
        found = _as_dict(params)
        found["_meta"] = {**(found.get("_meta") or {}), **self.meta()}
        return found

    async def request(self, send: Send, method: str, params: Any, result_type: Any) -> Any:
        """Send `method`, answering input requests for at most `max_input_rounds` rounds; a
        list whose `ttlMs` has not passed is answered from the cache."""
        key: tuple[str, object, object] | None = None
        if method in CACHED_LISTS:
            key = (method, _as_dict(params).get("cursor"), result_type)
            kept = self._cached.get(key)
            if kept is not None and self.clock() < kept[0]:
                return kept[1]
        base = self.params(params)
        retry = base
        for _ in range(self.max_input_rounds + 1):
            raw = await send(method, retry)
            head = read_result(_HEAD, raw, method)
            if head.result_type == "task":
                return await self._follow_task(send, method, raw, result_type)
            if head.result_type != "input_required":
                result = self.decode(method, raw, result_type)
                # server/utilities/caching: fresh while now < received + ttlMs; absent, zero
                # or negative: stale at once, so not kept.
                if key is not None and head.ttl_ms is not None and head.ttl_ms > 0:
                    self._cached[key] = (self.clock() + head.ttl_ms / 1000, result)
                return result
            asked = read_result(_INPUT_REQUIRED, raw, method)
            # basic/patterns/mrtr, Client Requirements: a new request (new id: `send` makes
            # one) with the original params, our answers, and the state exactly as given, or
            # none if none was given; a fresh copy each round, never shared with other calls.
            retry = dict(base)
            if asked.input_requests:
                retry["inputResponses"] = await self._answer(asked.input_requests)
            if asked.request_state is not None:
                retry["requestState"] = asked.request_state
        raise McpError(
            codes.INTERNAL_ERROR,
            f"{method}: the server still asked for input after {self.max_input_rounds} rounds "
            "(Client(max_input_rounds=...) sets the bound)",
        )

    def decode(self, method: str, raw: msgspec.Raw, result_type: Any) -> Any:
        """A complete result, as the type the 2025-11-25 client returns for `method`."""
        if result_type is None:
            result_type = RESULT_TYPES.get(method)
            if result_type is None:
                info = _LATEST_METHODS.get(method)
                result_type = info.result if info is not None and info.result else dict[str, Any]
        if result_type is msgspec.Raw:
            return raw
        try:
            result = _decoder(result_type).decode(raw)
        except msgspec.ValidationError as exc:
            raise McpError(codes.INVALID_PARAMS, f"Invalid result for {method}: {exc}") from None
        return _without_server_info(result)

    async def _follow_task(
        self, send: Send, method: str, raw: msgspec.Raw, result_type: Any
    ) -> Any:
        """A call the server runs as a task (SEP-2663): poll tasks/get at the interval it
        asks, answer its questions with tasks/update, and return its inlined result (or raise
        its error). Each poll is a request bounded by the client's timeout. A caller that
        gives up (cancelled, or a poll timed out) cancels the task with tasks/cancel: nobody
        would read what it comes to."""
        task = read_result(_TASK, raw, method)
        task_id = task.task_id
        try:
            for _ in range(_MAX_POLLS):
                if task.status == "completed":
                    return self.decode(
                        method, msgspec.Raw(msgspec.json.encode(task.result)), result_type
                    )
                if task.status in ("failed", "cancelled"):
                    error = task.error or {}
                    code = error.get("code")
                    raise McpError(
                        code if type(code) is int else codes.INTERNAL_ERROR,
                        str(error.get("message", f"the task {task.status}")),
                        error.get("data"),
                    )
                if task.status == "input_required" and task.input_requests:
                    answers = await self._answer(task.input_requests)
                    update = {"taskId": task_id, "inputResponses": answers}
                    await send("tasks/update", self.params(update))
                else:
                    await asyncio.sleep(min(max(task.poll_interval_ms or 500, 10), 5000) / 1000)
                polled = await send("tasks/get", self.params({"taskId": task_id}))
                task = read_result(_TASK, polled, "tasks/get")
        except (asyncio.CancelledError, RequestTimeout):
            await self._cancel_task(send, task_id)
            raise
        await self._cancel_task(send, task_id)
        raise McpError(codes.INTERNAL_ERROR, f"task {task_id} did not end in {_MAX_POLLS} polls")

    async def _cancel_task(self, send: Send, task_id: str) -> None:
        """tasks/cancel for a task nobody waits for (best effort, for at most CANCEL_WAIT
        seconds: it may have just ended, or the server be going away)."""
        await quietly(send("tasks/cancel", self.params({"taskId": task_id})), task_id)

    async def _answer(self, requests: dict[str, Any]) -> dict[str, Any]:
        """Each input request answered by the user's handler, under the same key."""
        answers: dict[str, Any] = {}
        for key, value in requests.items():
            try:
                asked = msgspec.convert(value, _InputRequest)
                params = _input_params(asked)
            except msgspec.ValidationError as exc:
                raise McpError(
                    codes.INVALID_PARAMS, f"the server's input request {key!r} is malformed: {exc}"
                ) from None
            result = await self.router.handle(asked.method, params)
            answers[key] = msgspec.to_builtins(result)
        return answers


def _input_params(asked: _InputRequest) -> Any:
    """An input request's params as the handlers take them (the 2025-11-25 types). A URL
    elicitation of 2026-07-28 has no `elicitationId` (nothing completes it later): the handler
    gets a fresh one, so the type it knows holds."""
    if asked.method == "sampling/createMessage":
        return msgspec.convert(asked.params, CreateMessageRequestParams)
    if asked.method == "elicitation/create":
        params: Any = asked.params
        if isinstance(params, dict):
            fields = cast("dict[str, Any]", params)
            if fields.get("mode") == "url" and "elicitationId" not in fields:
                params = {**fields, "elicitationId": secrets.token_urlsafe(12)}
        return msgspec.convert(params, ElicitRequestParams)
    return asked.params


def _without_server_info(found: object) -> Any:
    """`found`, a result, without the server's name in its `_meta` (2026-07-28 puts it on
    every result; `client.server_info` has it): a result reads the same in both eras."""
    result: Any = found
    meta = meta_of(found)
    if meta is None or SERVER_INFO_KEY not in meta:
        return result
    rest = {k: v for k, v in meta.items() if k != SERVER_INFO_KEY}
    if isinstance(found, dict):
        fields = cast("dict[str, Any]", found)
        if rest:
            fields["_meta"] = rest
        else:
            del fields["_meta"]
        return fields
    result.meta = rest or None
    return result
