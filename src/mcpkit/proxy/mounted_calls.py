"""How one request of a mounted proxy's entry reaches the upstream: `forward` sends it on the
link `Upstreams` gives its request (its 2025 session's own, or a pooled one), with the request
itself (`MountedCall`) as the link's holder and downstream, so the upstream's progress, log
messages and questions go to its Context. Apart from `mcpkit.proxy.mounted`, which makes the
entries and keeps up with the upstream's changes, because the 2025 session links
(`mcpkit.proxy.client_links`) hold such calls too and need nothing else of a mounted proxy.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.server.asking.round_trip import InputRequired
from mcpkit.server.context import Context
from mcpkit.types import (
    CreateMessageResult,
    ElicitResult,
    ListRootsResult,
    ReadResourceRequestParams,
    ReadResourceResult,
)

if TYPE_CHECKING:
    from mcpkit.proxy.pool import LinkPool
    from mcpkit.proxy.upstream_link import Asker, Downstream, Link
    from mcpkit.runtime.connection import ProgressCallback
    from mcpkit.types import RequestId

__all__ = ["MountedCall", "Upstreams", "forward", "read_upstream"]


class Upstreams(Protocol):
    """Where a mounted proxy's requests are forwarded (`mcpkit.proxy.client_links.
    MountedLinks`): the link of each request, and the pool the catalog is listed on."""

    @property
    def pool(self) -> LinkPool: ...

    async def acquire(self, caller: Asker, ctx: Context) -> Link: ...

    def release(self, link: Link, caller: Asker) -> None: ...


#: The upstream's questions a request's client can be asked, with the type of each answer.
_ANSWER_TYPES: Final[dict[str, type]] = {
    "elicitation/create": ElicitResult,
    "sampling/createMessage": CreateMessageResult,
    "roots/list": ListRootsResult,
}


async def read_upstream(links: Upstreams, ctx: Context, uri: str) -> ReadResourceResult:
    """resources/read of `uri` (the upstream's own URI, a match of one of its templates),
    forwarded as it is."""
    params = ReadResourceRequestParams(uri=uri)
    return cast(ReadResourceResult, await forward(links, ctx, "resources/read", params))


class MountedCall:
    """The request being served, as a pooled link's holder (`mcpkit.proxy.upstream_link.
    Asker`) and its call's `Downstream`: the upstream's progress, log messages and
    questions on its call go to it."""

    __slots__ = ("ctx", "round_ended")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        #: Set when a 2026-07-28 question ended the round (the client answers on retry).
        self.round_ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def request_id(self) -> RequestId | None:
        return self.ctx.request_id

    async def progress(self, progress: float, total: float | None, message: Any) -> None:
        await self.ctx.progress(progress, total, message)

    async def log(self, params: Any) -> None:
        level, data = str(field_of(params, "level") or "info"), field_of(params, "data")
        await self.ctx.log(level, data, logger=field_of(params, "logger"))

    async def ask(
        self, ev: RequestReceived, related: Downstream | None, on_progress: ProgressCallback | None
    ) -> Any:
        method, params = ev.method, ev.params
        answer_type = _ANSWER_TYPES.get(method)
        if answer_type is None:
            raise McpError(
                codes.METHOD_NOT_FOUND, f"{method} cannot reach the client through a mounted proxy"
            )
        try:
            return await self.ctx.ask_client(method, _question(params), answer_type)
        except InputRequired:
            if not self.round_ended.done():
                self.round_ended.set_result(None)
            raise McpError(
                codes.INTERNAL_ERROR, "the client answers in its next round (2026-07-28)"
            ) from None


def _question(params: Any) -> Any:
    """The upstream's question without what belongs to the upstream session (its `_meta`,
    a task augmentation), as the request's client is asked it."""
    if params is None:
        return None
    raw: Any = msgspec.to_builtins(params)
    if isinstance(raw, dict):
        found = cast("dict[str, Any]", raw)
        return {k: v for k, v in found.items() if k not in ("_meta", "task")}
    return raw


async def forward(links: Upstreams, ctx: Context, method: str, params: Any) -> Any:
    """Forward one request of a mounted proxy's entry upstream, on its session's upstream
    session or a pooled one (`links`), and return the upstream's result; raises
    InputRequired when a 2026-07-28 question ended the round."""
    caller = MountedCall(ctx)
    link = await links.acquire(caller, ctx)
    try:
        ev = RequestReceived(ctx.request_id, method, params, ctx.progress_token)
        call = asyncio.ensure_future(link.forward(caller, ev, params))
        try:
            await asyncio.wait((call, caller.round_ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not call.done():
                call.cancel()  # sends the upstream notifications/cancelled
        if caller.round_ended.done():
            await asyncio.wait((call,))  # its cancellation sent; its outcome is no answer
            raise InputRequired
        return call.result()
    finally:
        links.release(link, caller)
