"""The requests of the Streamable HTTP client to its endpoint: its httpx client, the headers
of every request, the Mcp-Session-Id and negotiated version it keeps, and DELETE at the end
(spec: basic/transports, "Session Management" and "Protocol Version Header").

Every failure of a request reaches its caller as a `RequestFailed`, an error answer that
names the URL and what went wrong (a status and the server's message, a transport error,
an auth failure), never as a request left waiting. What a refusal's body is read for is
bounded (`REFUSAL_LIMIT`), and so is the DELETE at the end (`_DELETE_TIMEOUT`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import AuthError, AuthorizationFailed, RemoteProtocolError
from mcpkit.protocol import codes
from mcpkit.transports.http_client._reading import identity_chunks
from mcpkit.transports.http_client._stale import ReuseTrace, met_a_closed_connection
from mcpkit.transports.http_client._wire import (
    ACCEPT_ANY,
    MAX_SESSION_ID_LENGTH,
    REFUSAL_LIMIT,
    read_refusal,
    refusal_data,
    valid_session_id,
)

__all__ = [
    "KEEPALIVE_EXPIRY",
    "EndpointRequests",
    "RequestFailed",
    "ModernHeaders",
    "read_some",
]

logger = logging.getLogger("mcpkit.client.http")

# The DELETE at close is a courtesy (the server's session expires anyway): a server that
# does not answer must not hold the client's exit for longer than this.
_DELETE_TIMEOUT: Final = 5.0
#: Seconds an idle connection of our own client is kept for reuse: under the 5 s after which
#: node's http server and uvicorn close an idle one. At httpx's default (also 5 s), a request
#: sent as the server closes the connection (an OAuth login that took 5 s before the retried
#: request, say) meets the close and fails with no answer, though the server never saw it.
KEEPALIVE_EXPIRY = 4.0

#: (method, params) -> the headers a modern request carries (2026-07-28 basic/transports/
#: streamable-http, "Request Metadata"): Mcp-Method, Mcp-Name, Mcp-Param-*.
ModernHeaders = Callable[[str, Mapping[str, Any]], Mapping[str, str]]


class RequestFailed(Exception):
    """HTTP failed one of our requests: the transport answers it with this JSON-RPC error
    (`code`, the message, `data`), so its caller gets an McpError that says what happened."""

    def __init__(
        self, message: str, *, code: int = codes.INTERNAL_ERROR, data: dict[str, Any] | None = None
    ) -> None:
        # Internal error unless the server's refusal gave a JSON-RPC code of its own: the
        # failure is the transport's, not one the peer reported. `data` carries what a
        # caller may act on (`httpStatus`, `transportError`, `authError`).
        super().__init__(message)
        self.code = code
        self.data = data

    @classmethod
    def status(
        cls, what: str, url: str, status: int, message: str, code: int | None
    ) -> RequestFailed:
        """A refusal with HTTP `status`: the message names the request, the URL and the
        status; `code` is the JSON-RPC code the server's body gave, if it gave one."""
        # `httpStatus` lets a caller tell a 401 from a 503 without parsing the message.
        reason = httpx.codes.get_reason_phrase(status)
        return cls(
            f"{what}: {url} answered HTTP {status} {reason}: {message}".rstrip(),
            code=code if code is not None else codes.INTERNAL_ERROR,
            data={"httpStatus": status},
        )


class EndpointRequests:
    """What every request to one Streamable HTTP endpoint shares, in a 2025 session or as a
    2026-07-28 modern request: its URL, headers, auth and httpx client, the
    session id and negotiated version it keeps, and how each request is sent."""

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str],
        auth: httpx.Auth | None,
        http_client: httpx.AsyncClient | None,
        timeout: float,
        sse_read_timeout: float,
    ) -> None:
        """`headers` go on every request; `timeout` bounds each request and its quick
        reads, and `sse_read_timeout` the wait for the next event on a stream."""
        self.url = url
        self.headers = headers
        self.auth = auth
        self.timeout = timeout
        self.sse_read_timeout = sse_read_timeout
        #: The Mcp-Session-Id the server gave at initialize (None: it uses none).
        self.session_id: str | None = None
        #: The negotiated revision, sent as MCP-Protocol-Version after initialize.
        self.protocol_version: str | None = None
        # A client given by the caller is used and never closed here: it is theirs.
        self._given_client = http_client
        self._client: httpx.AsyncClient | None = None
        # Two timeouts: a stream may rightly be quiet for long, a plain answer may not.
        self._quick = httpx.Timeout(timeout)
        self._streaming = httpx.Timeout(timeout, read=sse_read_timeout)

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The httpx client in use; RuntimeError before `open`, which a Client calls."""
        if self._client is None:
            raise RuntimeError("the transport is not open: use it as a Client's target")
        return self._client

    def open(self) -> None:
        """Take the given httpx client, or make our own, if not done yet."""
        # Our own client's pool: room for many concurrent requests to one server, few
        # idle connections kept, each dropped before the server would drop it. Each request
        # holds its connection until its answer has come, which on an SSE stream may be
        # long, so concurrent calls need a connection each and the pool is wide.
        if self._client is None:
            self._client = self._given_client or httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=100,
                    max_keepalive_connections=20,
                    keepalive_expiry=KEEPALIVE_EXPIRY,
                )
            )

    async def aclose(self) -> None:
        """DELETE the session (405 is fine) and close our own httpx client (not a given one)."""
        await self.end_session()
        # Taken first, so a second aclose finds nothing to close.
        client, self._client = self._client, None
        if client is not None and client is not self._given_client:
            await client.aclose()

    # ---------------------------------------------------------------- requests

    def request_headers(
        self, *, accept: str = ACCEPT_ANY, with_session: bool = True
    ) -> dict[str, str]:
        """The headers of one request: the user's, then ours, which win. `with_session`
        False leaves out the session id and version: an initialize (first or replayed)
        comes before either is agreed."""
        # Identity encoding: the body bounds count bytes as they arrive, which a compressed
        # answer would multiply after the count.
        # Ours win because the transport depends on them: a user's Accept or session id
        # would break the content negotiation or send requests into another session.
        found = {**self.headers, "accept": accept, "accept-encoding": "identity"}
        if with_session:
            if self.session_id is not None:
                found["mcp-session-id"] = self.session_id
            if self.protocol_version is not None:
                found["mcp-protocol-version"] = self.protocol_version
        return found

    async def send_request(
        self, method: str, headers: dict[str, str], content: bytes | None, streaming: bool
    ) -> httpx.Response:
        """One HTTP request, its body left to read; raises RequestFailed when it cannot be
        made (connection refused, a timeout)."""
        client = self.http_client
        timeout = self._streaming if streaming else self._quick
        # Sent again once, and only when the connection was a reused one the server had
        # just closed: the request cannot have reached it, so sending again is safe.
        try:
            try:
                return await self._send_once(client, method, headers, content, timeout)
            except httpx.TransportError as exc:
                if not met_a_closed_connection(exc):
                    raise
                # (_stale: the server closed that kept-alive connection as it was reused)
                logger.debug(
                    "%s %s met a closed kept-alive connection: sent again", method, self.url
                )
                return await self._send_once(client, method, headers, content, timeout)
        except httpx.TransportError as exc:
            # Refused or unresolved: nothing listens at that URL (not, say, a reset mid-way).
            hint = (
                " (is the server running at that URL?)"
                if isinstance(exc, httpx.ConnectError)
                else ""
            )
            raise RequestFailed(
                f"cannot reach {self.url}: {str(exc) or type(exc).__name__}{hint}",
                data={"transportError": type(exc).__name__},
            ) from None
        except AuthError as exc:
            # The auth (OAuth, say) could not authorize the request: the caller gets an error
            # answer naming why, as for any refusal, instead of a request left waiting.
            data: dict[str, Any] = {"authError": exc.error}
            if isinstance(exc, AuthorizationFailed) and exc.status is not None:
                data["httpStatus"] = exc.status
            raise RequestFailed(f"authorization for {self.url} failed: {exc}", data=data) from None

    async def _send_once(
        self,
        client: httpx.AsyncClient,
        method: str,
        headers: dict[str, str],
        content: bytes | None,
        timeout: httpx.Timeout,
    ) -> httpx.Response:
        """Send one request, its body unread (`stream=True`): the caller reads it with its
        own bounds, or only a part of a refusal."""
        request = client.build_request(
            method, self.url, headers=headers, content=content, timeout=timeout
        )
        # Notes whether the connection was a reused one, for `met_a_closed_connection`.
        request.extensions["trace"] = ReuseTrace()
        # Without auth, httpx's own default is left alone (a client given may have one).
        if self.auth is None:
            return await client.send(request, stream=True)
        return await client.send(request, auth=self.auth, stream=True)

    async def post(
        self,
        data: bytes,
        *,
        streaming: bool,
        with_session: bool = True,
        extra: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST one JSON-RPC message (basic/transports, "Sending Messages to the Server");
        `extra` adds headers, such as a 2026-07-28 request's Mcp-Method and Mcp-Name."""
        headers = self.request_headers(with_session=with_session)
        headers["content-type"] = "application/json"
        # After ours: a request's own headers are more specific than the transport's.
        if extra:
            headers.update(extra)
        return await self.send_request("POST", headers, data, streaming)

    async def check_refusal(self, response: httpx.Response, what: str) -> None:
        """Raise RequestFailed for a refusal (4xx, 5xx) naming the status and the server's
        message (from at most 64 KiB of its body). `what` names the request in the message
        ("tools/call", "the GET stream"); the server's JSON-RPC error data is kept."""
        # Only part of the body is read: a refusal's message is short, and a hostile or
        # broken server's page may not be.
        if response.status_code >= 400:
            body = await read_some(response, REFUSAL_LIMIT)
            status = response.status_code
            kind = response.headers.get("content-type", "")
            message, code = read_refusal(body, content_type=kind, status=status)
            failed = RequestFailed.status(what, self.url, response.status_code, message, code)
            data = refusal_data(body)
            if data and failed.data is not None:  # the server's own data, and our status
                failed.data = {**data, **failed.data}
            raise failed

    # ---------------------------------------------------------------- session

    def take_session_id(self, response: httpx.Response) -> bool:
        """Keep the Mcp-Session-Id of an initialize answer; False if it is not one."""
        sid = response.headers.get("mcp-session-id")
        # The spec allows only visible ASCII: anything else is refused rather than sent
        # back in every later request's header.
        if sid is not None and not valid_session_id(sid):
            return False
        self.session_id = sid  # None too: a server may use no session at all
        return True

    def bad_session_id(self, response: httpx.Response) -> str:
        """The message for a session id `take_session_id` refused (its start only: it
        may be long, or hostile)."""
        sid = response.headers.get("mcp-session-id", "")
        return (
            f"{self.url} sent an Mcp-Session-Id that is not 1 to {MAX_SESSION_ID_LENGTH} "
            f"visible ASCII characters ({sid[:80]!r}); the spec allows only those"
        )

    async def end_session(self) -> None:
        """DELETE the session ("Session Management" 5); 405 means the server keeps it."""
        # No session, or never opened: nothing to end.
        if self.session_id is None or self._client is None:
            return
        headers = self.request_headers(accept="application/json, text/event-stream")
        # One deadline for the whole exchange, answer included.
        try:
            async with asyncio.timeout(_DELETE_TIMEOUT):
                response = await self.send_request("DELETE", headers, None, False)
                await response.aclose()
        except (RequestFailed, TimeoutError) as exc:
            # Closing goes on: a server that cannot be reached has no session to end.
            logger.debug("DELETE of session %s failed: %s", self.session_id, exc)
            return
        # 404: already gone; 405: the server does not let clients end sessions. Neither is
        # worth a word; another refusal is.
        if response.status_code >= 400 and response.status_code not in (404, 405):
            logger.info(
                "the server refused to end session %s: HTTP %d",
                self.session_id,
                response.status_code,
            )
        self.session_id = None


async def read_some(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of `response`'s body, as many as arrive before it ends or fails.
    Never raises: it serves error reports, which must not fail in turn."""
    body = bytearray()
    # What arrived before a failure is kept: a refusal's first bytes still say what it is.
    try:
        async for chunk in identity_chunks(response):
            body += chunk
            if len(body) >= limit:
                break
    except (httpx.TransportError, RemoteProtocolError):  # cut short, or compressed
        pass
    return bytes(body[:limit])  # the last chunk may have passed the limit
