"""`when_cannot_ask="url"`: a yes/no question the client cannot answer in a form is put to
the user on this server's approval page (`mcpkit.transports.deployment.approval_page`), through a
URL-mode elicitation where the client declared one, else as a link in the tool's result;
the call made again once the user approved gets "accept" (`mcpkit.stores.approvals`).

The approval is bound to the caller (its access token's owner; without auth, its 2025-11-25
session; a 2026-07-28 request without auth has neither, and the link then approves the call
for whoever makes it again), to the tool, to its arguments and to the question.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Final, Literal

import msgspec

from mcpkit.errors import PeerError
from mcpkit.protocol import codes
from mcpkit.protocol.modern import is_modern_revision
from mcpkit.server.catalog.callers import lasting_session, outermost, principal_of
from mcpkit.server.catalog.calling.ask_fallback import CannotAsk, FallbackCall
from mcpkit.server.schemas._hints import enc_hook
from mcpkit.stores.approvals import APPROVAL_PATH, approval_page_origin, approvals_of
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.types import CallToolResult, ElicitResult, TextContent

__all__ = ["approve_out_of_band", "binding_of"]

logger = logging.getLogger(__name__)


def _as_bound(value: Any) -> Any:
    """An argument as the binding holds it: as JSON where it can be; else by its type (an
    object injected by the framework, not sent by the caller, which the call's arguments
    already say all about)."""
    try:
        return enc_hook(value)
    except TypeError:
        return f"<{type(value).__module__}.{type(value).__qualname__}>"


#: Keys sorted, so the same arguments give the same binding however the caller ordered them;
#: a call made again must find the approval its first call opened.
_encoder: Final = msgspec.json.Encoder(enc_hook=_as_bound, order="sorted")


async def approve_out_of_band(
    ctx: Any, call: FallbackCall, message: str, yes: dict[str, Any]
) -> ElicitResult:
    """The user's decision on this call from the approval page: `yes` (the content of an
    accept) once they approved, "decline" once they declined; else the call ends with the
    link (CannotAsk), after a URL-mode elicitation where the client declared one."""
    tool = call.fallback.tool
    info = ctx.request_info
    # No HTTP request, no Host to build the link from and no app serving the page. A stdio
    # server is refused these tools as it starts (`refuse_out_of_band`); this catches the
    # rest, an in-memory call among them.
    if info is None:
        raise RuntimeError(
            f"tool {tool!r} has when_cannot_ask='url', whose approval page only an HTTP "
            "server serves: serve it over Streamable HTTP, or use 'confirm'"
        )
    try:
        decided = await _decision(ctx, call, message, info)
    except StoreUnavailable as exc:  # (each step within the store's timeout: never a hang)
        logger.warning("tool %r could not reach its approvals: %s", tool, exc)
        raise CannotAsk(_store_down()) from None
    if isinstance(decided, ElicitResult):
        return decided
    if decided == "declined":
        return ElicitResult(action="decline")
    return ElicitResult(action="accept", content=yes)


async def _decision(
    ctx: Any, call: FallbackCall, message: str, info: Any
) -> Literal["approved", "declined"] | ElicitResult:
    """The user's decision, taken (once) from the server's store; else a new or open link
    sent in a URL-mode elicitation (its answer when the user would not open it) or in the
    call's result (CannotAsk): there too when the client declared URL mode and then answers
    "method not found" (as a form's misreport falls back, `asking.fallback`)."""
    tool = call.fallback.tool
    approvals = approvals_of(outermost(ctx.server).store)
    caller = _caller(ctx)
    binding = binding_of(ctx.server.name, tool, call.arguments, message)
    # Taken first: the call made again after the user decided must get that decision,
    # not a fresh link. `take` uses it up, so a third call asks anew.
    decided = await approvals.take(caller, binding)
    if decided is None:
        approval = await approvals.open(caller, binding, tool, message)
        if approval is None:
            raise CannotAsk(_too_many(message))
        url = _link(info, approval.token)
        if ctx.client_supports("elicitation.url"):
            params: dict[str, Any] = {"mode": "url", "message": message, "url": url}
            if not is_modern_revision(ctx.protocol_version or ""):
                params["elicitationId"] = approval.id  # (2025-11-25 wants one)
            # Keyed by the approval: a 2026-07-28 round after its link expired asks anew, where
            # the same key with another link would be "a different question" (round_trip).
            try:
                opened: ElicitResult = await ctx.ask_client(
                    "elicitation/create", params, ElicitResult, key=f"approval-{approval.id}"
                )
            except PeerError as exc:  # declared, and then not implemented: it misreported
                if exc.code != codes.METHOD_NOT_FOUND:
                    raise
            else:
                if opened.action != "accept":
                    return opened  # the user would not open the link
                # "accept" says only that the user consented to go to the page, not that the
                # interaction is done (client/elicitation, "URL Mode Elicitation Requests");
                # what they chose there is read from the store, if they chose yet.
                decided = await approvals.take(caller, binding)
        if decided is None:
            raise CannotAsk(_open_the_link(message, url, approvals.ttl))
    return decided


def binding_of(server: str, tool: str, arguments: dict[str, Any], message: str) -> str:
    """What an approval is for: a digest of the server, the tool, its arguments and the
    question (the caller is bound beside it)."""
    # The server's name keeps apart the approvals of servers sharing one store; the
    # arguments make an approval of one call useless for another with different ones.
    return hashlib.sha256(_encoder.encode([server, tool, arguments, message])).hexdigest()


def _caller(ctx: Any) -> str | None:
    """Who the approval is for: the token's owner, else the 2025-11-25 session, else None
    (a request without auth that stands alone belongs to no one in particular)."""
    principal = principal_of(ctx.auth)
    if principal is not None:
        return principal
    session = lasting_session(ctx)
    return None if session is None else f"session:{session}"


def _link(info: Any, token: str) -> str:
    """The page's URL as the client reached this server (behind a proxy: its
    X-Forwarded-Proto, else https but for a loopback host). The Host was checked at the
    endpoint where the app has a list of them (`allowed_hosts`, a loopback bind)."""
    host: str = info.header("host") or "localhost"
    origin = approval_page_origin(host, info.header("x-forwarded-proto"))
    return f"{origin}{APPROVAL_PATH}?t={token}"


def _open_the_link(message: str, url: str, ttl: float) -> CallToolResult:
    # "this tool", not its name: a mounted or renamed tool is called by another name.
    text = (
        f"This call needs the user's approval, and this client cannot ask for it. Ask the "
        f"user to open {url} and approve or decline: {msgspec.json.encode(message).decode()}. "
        "Once they have, call this tool again with the same arguments. The link works once and "
        f"for {round(ttl / 60)} minutes."
    )
    return CallToolResult(content=[TextContent(text=text)], is_error=True)


def _too_many(message: str) -> CallToolResult:
    """The result when `Approvals.open` found no slot left: the caller, or the server, has
    as many links waiting as it may (`MAX_APPROVALS_PER_CALLER`), a cap that keeps one caller
    from filling the store with links nobody opens."""
    text = (
        "This call needs the user's approval, and this client cannot ask for it; this "
        "caller has as many approval links waiting as it may, so no new one was made. Ask "
        f"the user to decide the links already given, or try again later: "
        f"{msgspec.json.encode(message).decode()}"
    )
    return CallToolResult(content=[TextContent(text=text)], is_error=True)


def _store_down() -> CallToolResult:
    """The result when the approvals store did not answer in time. The call ends unrun: a
    decision that cannot be read is no approval."""
    text = (
        "This call needs the user's approval, and the server cannot reach the store that "
        "keeps approvals right now. Nothing was done: call this tool again in a moment."
    )
    return CallToolResult(content=[TextContent(text=text)], is_error=True)
