"""The client's calls for server features: tools, resources, prompts, completion, logging,
and tool calls run as tasks (the `tasks/*` calls are in `client.tasks`).

Each `list_*` gathers every page (bounded by `max_pages`); `list_*_page` returns one page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.client.pages import MAX_PAGES, all_pages
from mcpkit.client.results import ToolResult
from mcpkit.client.task_requestor import ClientTask, TaskRequests
from mcpkit.errors import McpError, RequestTimeout
from mcpkit.runtime.task_augmented import quietly
from mcpkit.types import (
    CompleteResult,
    CreateTaskResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TaskMetadata,
    Tool,
)

if TYPE_CHECKING:
    from mcpkit.client.request_path import LogLevel, ProgressHandler, RequestPath

__all__ = ["FeatureCalls"]

_MAX_PAGES = MAX_PAGES


def _params(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class FeatureCalls:
    """The calls for server features, each one request on the client's path (whose era says
    how the few that differ are made); `Client` holds one."""

    def __init__(self, requests: RequestPath[Any], tasks: TaskRequests) -> None:
        self._requests = requests
        self._tasks = tasks

    async def ping(self, *, timeout: float | None = None) -> None:
        """Check that the server answers: `ping`; in the modern revision, which has no
        ping, `server/discover` (which every server of it must answer)."""
        method, result_type = self._requests.era.ping
        await self._requests.request(method, timeout=timeout, result_type=result_type)

    async def _all_pages(self, method: str, attr: str, max_pages: int) -> list[Any]:
        def fetch(cursor: str | None) -> Awaitable[Any]:
            return self._requests.request(method, _params(cursor=cursor))

        return await all_pages(fetch, attr, max_pages)

    # ------------------------------------------------------------------- tools

    async def list_tools(self, *, max_pages: int = _MAX_PAGES) -> list[Tool]:
        return await self._all_pages("tools/list", "tools", max_pages)

    async def list_tools_page(self, cursor: str | None = None) -> ListToolsResult:
        result: ListToolsResult = await self._requests.request("tools/list", _params(cursor=cursor))
        return result

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        progress: ProgressHandler | None = None,
        timeout: float | None = None,
        meta: dict[str, Any] | None = None,
        task: bool | int | TaskMetadata = False,
    ) -> ToolResult:
        """Call a tool. A tool's own failure is a result with `is_error=True`, not an
        exception; protocol errors raise McpError.

        With `task` (True, a ttl in milliseconds, or a `TaskMetadata`) the call runs as a
        task (basic/utilities/tasks; tools whose `taskSupport` is "required" need it): the
        result is the same, fetched with `tasks/result` once the task ends. `timeout` then
        bounds the wait for the end (None: as long as the task runs); if it passes, or the
        caller is cancelled, the task is cancelled too, as a plain call would be. Under
        2026-07-28 the server decides which calls become tasks (the tasks extension, SEP-2663)
        and the call follows its task to the end: `task` changes nothing there."""
        if task is False or not self._requests.era.client_tasks:
            params = _params(name=name, arguments=arguments, _meta=meta)
            result: ToolResult = await self._requests.request(
                "tools/call", params, timeout=timeout, progress=progress
            )
            return result
        handle = await self._create_tool_task(name, arguments, task, progress, meta)
        async with handle:
            try:
                return await handle.result(timeout)
            except (RequestTimeout, asyncio.CancelledError):
                await _cancel_quietly(handle)
                raise

    async def call_tool_as_task(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        ttl: int | None = None,
        progress: ProgressHandler | None = None,
        meta: dict[str, Any] | None = None,
    ) -> ClientTask[ToolResult]:
        """Start a tool call as a task and return its handle at once (`await h.result()`,
        `h.wait()`, `h.refresh()`, `h.cancel()`; see `ClientTask`). `ttl` is how long the
        server should keep it, in milliseconds from its creation (the server may change it).
        `progress` is called for the task's progress until it ends or the handle is closed.
        Revision 2025-11-25's: a client that speaks 2026-07-28 raises LocalProtocolError."""
        self._requests.era.refuse_session_tasks("call_tool_as_task")
        return await self._create_tool_task(name, arguments, TaskMetadata(ttl=ttl), progress, meta)

    async def _create_tool_task(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        task: bool | int | TaskMetadata,
        progress: ProgressHandler | None,
        meta: dict[str, Any] | None,
    ) -> ClientTask[ToolResult]:
        params = _params(name=name, arguments=arguments, _meta=meta, task=_task_field(task))
        # The request path gives up on a task-augmented request the spec's way: its timeout
        # passed or its caller cancelled, it cancels the task made with tasks/cancel
        # (`runtime.task_augmented.created_or_cancelled`).
        created: CreateTaskResult = await self._requests.request(
            "tools/call", params, progress=progress
        )
        try:
            return self._tasks.track_task(
                created.task, ToolResult, created.meta, method="tools/call"
            )
        except McpError:
            self._tasks.forget_task(created.task.task_id)
            raise

    # --------------------------------------------------------------- resources

    async def list_resources(self, *, max_pages: int = _MAX_PAGES) -> list[Resource]:
        return await self._all_pages("resources/list", "resources", max_pages)

    async def list_resources_page(self, cursor: str | None = None) -> ListResourcesResult:
        result: ListResourcesResult = await self._requests.request(
            "resources/list", _params(cursor=cursor)
        )
        return result

    async def list_resource_templates(
        self, *, max_pages: int = _MAX_PAGES
    ) -> list[ResourceTemplate]:
        return await self._all_pages("resources/templates/list", "resource_templates", max_pages)

    async def list_resource_templates_page(
        self, cursor: str | None = None
    ) -> ListResourceTemplatesResult:
        result: ListResourceTemplatesResult = await self._requests.request(
            "resources/templates/list", _params(cursor=cursor)
        )
        return result

    async def read_resource(self, uri: str, *, timeout: float | None = None) -> ReadResourceResult:
        result: ReadResourceResult = await self._requests.request(
            "resources/read", {"uri": uri}, timeout=timeout
        )
        return result

    async def subscribe(self, uri: str) -> None:
        """Ask for `notifications/resources/updated` when `uri` changes (in the modern
        revision: the `subscriptions/listen` stream is opened again with `uri` in its filter,
        and this returns once the server acknowledged it; McpError when the server refuses
        that filter, a URI past its limits say, and the subscriptions held before stay)."""
        await self._requests.era.subscribe(uri)

    async def unsubscribe(self, uri: str) -> None:
        await self._requests.era.unsubscribe(uri)

    # ----------------------------------------------------------------- prompts

    async def list_prompts(self, *, max_pages: int = _MAX_PAGES) -> list[Prompt]:
        return await self._all_pages("prompts/list", "prompts", max_pages)

    async def list_prompts_page(self, cursor: str | None = None) -> ListPromptsResult:
        result: ListPromptsResult = await self._requests.request(
            "prompts/list", _params(cursor=cursor)
        )
        return result

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None, *, timeout: float | None = None
    ) -> GetPromptResult:
        result: GetPromptResult = await self._requests.request(
            "prompts/get", _params(name=name, arguments=arguments), timeout=timeout
        )
        return result

    # -------------------------------------------------------- completion, logs

    async def complete(
        self,
        ref: dict[str, Any] | Any,
        argument: str,
        value: str,
        *,
        context_arguments: dict[str, str] | None = None,
    ) -> CompleteResult:
        """Ask for completions of one argument. `ref` is a PromptReference /
        ResourceTemplateReference, or a shorthand dict such as `{"prompt": "review"}` or
        `{"template": "users://{id}"}`."""
        if isinstance(ref, dict) and "prompt" in ref:
            ref = {"type": "ref/prompt", "name": ref["prompt"]}
        elif isinstance(ref, dict) and "template" in ref:
            ref = {"type": "ref/resource", "uri": ref["template"]}
        params = _params(
            ref=ref,
            argument={"name": argument, "value": value},
            context={"arguments": context_arguments} if context_arguments else None,
        )
        result: CompleteResult = await self._requests.request("completion/complete", params)
        return result

    async def set_logging_level(self, level: LogLevel) -> None:
        """Ask the server for log messages at `level` and above. The modern revision has
        no `logging/setLevel`: the level is kept and sent with every later request
        (`io.modelcontextprotocol/logLevel`)."""
        await self._requests.era.set_logging_level(level)

    async def send_roots_list_changed(self) -> None:
        """Tell the server our roots changed (client/roots). The modern revision has no
        such notification (the server asks for roots with each request that needs them):
        nothing is sent then."""
        await self._requests.era.roots_changed()


async def _cancel_quietly(handle: ClientTask[Any]) -> None:
    """Cancel a task whose caller gave up waiting (best effort, for at most
    CANCEL_WAIT seconds: it may have just ended, or the server may not offer tasks/cancel)."""
    await quietly(handle.cancel(), handle.id)


def _task_field(task: object) -> dict[str, Any] | None:
    """The `task` field of a request's params for `call_tool(task=...)`: True (the server's
    default ttl), a ttl in milliseconds, or a `TaskMetadata`; None for a plain request."""
    if task is False or task is None:
        return None
    if task is True:
        return {}
    if isinstance(task, int):
        return {"ttl": task}
    if isinstance(task, TaskMetadata):
        fields: dict[str, Any] = msgspec.to_builtins(task)
        return fields
    raise TypeError(
        f"task must be True, a ttl in milliseconds or a TaskMetadata, not {type(task).__name__}"
    )
