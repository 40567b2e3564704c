"""`Context`: what a handler may ask of the session while it serves one request.

Injected into any handler parameter annotated `Context`. It reports progress, sends log
messages, asks the client for sampling, elicitation and roots, and tells whether the request
was cancelled. Everything it sends is tagged with the request, so on HTTP it travels on that
request's stream. `request_info` is what the transport knew about the message the request
came in (HTTP headers, the peer's address), None over stdio and in memory.

This module holds what a handler sends about its own request (progress, log messages) and
its reads of this server's resources; the bases of `Context` hold the rest, each in a module
of its own: `request_facts` (what the request is, who sent it, whether it was cancelled) and
`client_asks` (the requests to the client).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Never

from mcpkit.protocol.terms import log_level_of
from mcpkit.server.asking.client_asks import ClientAsks, ElicitationResult
from mcpkit.server.catalog.callers import lasting_session
from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.visibility import own_reads
from mcpkit.server.catalog.visibility.rules import Kind, make_rule
from mcpkit.server.catalog.visibility.session_rules import change_session
from mcpkit.server.session import ServerSessionHandle, log_message_params
from mcpkit.server.state import caller as state
from mcpkit.types import (
    BlobResourceContents,
    GetPromptResult,
    Prompt,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

__all__ = ["Context", "ElicitationResult"]


class Context(ClientAsks):
    """Per-request access to the session (exactly one Context class exists in mcpkit; its
    bases `RequestFacts` and `ClientAsks` are parts of it, never used alone)."""

    __slots__ = ()

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
        session = self.session
        session.send_progress(self.request_id, token, progress, total, message)
        await session.flush()

    async def close_sse_stream(self, *, retry: float | None = None) -> bool:
        """Close the HTTP connection carrying this request's messages now, without ending the
        request (SEP-1699): a long call then survives proxies that cut idle connections. The
        client reconnects after `retry` seconds (default: the app's `sse_retry`) and gets what
        was sent meanwhile, then the result. False where nothing was closed: not Streamable
        HTTP, a JSON answer, or a client older than 2025-11-25 (which may not reconnect)."""
        if retry is not None and not retry >= 0:
            raise ValueError(f"retry must be a number of seconds >= 0, not {retry!r}")
        retry_ms = None if retry is None else round(retry * 1000)
        session = self.session
        # A task's messages have no stream of their own; a request without a session has
        # only its response, whose closing would cancel it.
        if self.task is not None or not isinstance(session, ServerSessionHandle):
            return False
        return await session.close_stream(self.request_id, retry_ms)

    # ------------------------------------------------------------------ tasks

    async def begin_task(self) -> bool:
        """Go on as a task from here (a tool registered with `task_begins="in_handler"`,
        docs/tasks.md): under 2026-07-28, for a client that declared the tasks extension, the
        call is answered now with the task handle and the rest of the handler runs as the
        task. True if it did; False where there is nothing to begin (the call is already a
        task, or is served in the call itself): the handler just goes on."""
        starter = self.task_starter
        return False if starter is None else await starter.begin(self)

    # ---------------------------------------------------------------- logging

    async def log(self, level: str, data: Any, *, logger: str | None = None) -> None:
        """Send a log message to the client (server/utilities/logging), at or above the level
        it asked for: the session's (`logging/setLevel`), or under 2026-07-28 the request's
        own (`_meta`'s logLevel), without which no message is sent at all."""
        terms = self.terms
        if terms is not None and terms.modern:  # (the request's own level, any session's)
            message = log_message_params(level, data, logger, log_level_of(terms))
            if message is not None:
                await self.session.notify("notifications/message", message, related=self.request_id)
            return
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

    # --------------------------------------------------------------- resources

    async def read_resource(self, uri: str) -> list[TextResourceContents | BlobResourceContents]:
        """Read one of this server's own resources (or a template's match), as a client's
        `resources/read` would get it: the same contents, the same -32002 for an unknown URI,
        and the caller's scopes checked on a protected server. Sent nowhere: the function
        runs here, with this Context."""
        result = await self.server.read_resource(self, uri)
        return list(result.contents)

    async def list_resources(self) -> list[Resource]:
        """This server's resources as the calling client's `resources/list` would list them
        (every page): what its token's scopes and the visibility rules show it."""
        return own_reads.list_resources(self)

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        """This server's resource templates as the calling client would list them."""
        return own_reads.list_resource_templates(self)

    async def list_prompts(self) -> list[Prompt]:
        """This server's prompts as the calling client would list them."""
        return own_reads.list_prompts(self)

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None
    ) -> GetPromptResult:
        """Render one of this server's prompts as the calling client's `prompts/get` would
        get it: the same messages, the same error for a prompt it may not see. Sent nowhere:
        the function runs here, with this Context."""
        return await own_reads.get_prompt(self, name, arguments)

    # ---------------------------------------------------------------- session

    @property
    def session_id(self) -> str | None:
        """The id of the session this request belongs to (its Mcp-Session-Id over Streamable
        HTTP), or None for a request that has none: a modern one
        (2026-07-28), or one whose session a stateless app made for it alone."""
        return lasting_session(self)

    # ------------------------------------------------------------------ state

    async def get_state(self, key: str, default: Any = None) -> Any:
        """The caller's value of `key` (its 2025-11-25 session's; under 2026-07-28 its
        token owner's, else that of the key it sends), or `default`: docs/server.md, "State".
        McpError when the request names no caller."""
        return await state.get_state(self, key, default)

    async def set_state(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Keep `value` (JSON) as the caller's `key` for `ttl` seconds (default a day), in
        the server's store: every process sharing it reads it. TypeError for a value JSON
        cannot hold; ValueError past a size cap (`mcpkit.server.state`)."""
        await state.set_state(self, key, value, ttl)

    async def delete_state(self, key: str) -> None:
        """Forget the caller's `key`."""
        await state.delete_state(self, key)

    # -------------------------------------------------------------- visibility

    async def enable_components(
        self,
        *names: str,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        kinds: Iterable[Kind] | None = None,
        only: bool = False,
        **misspelt: Never,
    ) -> None:
        """`server.enable()` for this session alone (2025-11-25 sessions; docs/compose.md):
        it comes after the server's rules, so it shows this session what `server.disable()`
        hides too (as FastMCP's does). The session gets list_changed for each list that
        changed for it. A 2026-07-28 request
        has no session: LocalProtocolError (decide per request with
        `server.add_visibility_rule()`)."""
        where = "ctx.enable_components()"
        check_options(where, misspelt, self.enable_components)
        rule = make_rule(where, True, names, tags, version, kinds, only)
        await change_session(self, rule, where)

    async def disable_components(
        self,
        *names: str,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        kinds: Iterable[Kind] | None = None,
        **misspelt: Never,
    ) -> None:
        """`server.disable()` for this session alone (as `enable_components`): what it picks
        is neither listed to this session nor usable by it, for as long as the session
        lasts, in every process that serves it."""
        where = "ctx.disable_components()"
        check_options(where, misspelt, self.disable_components)
        rule = make_rule(where, False, names, tags, version, kinds, False)
        await change_session(self, rule, where)
