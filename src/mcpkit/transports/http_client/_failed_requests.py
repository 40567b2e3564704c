"""The requests HTTP could not carry, answered on the client's side: each gets an error
answer in the inbox, so its caller stops waiting, and a failure of the connection itself is
kept for the runtime to raise as `ConnectionFailed` (`failed_here`).

Apart from `transport` because both the initialize (`_initialize_post`) and every later
request end their failures here, the same way.
"""

from __future__ import annotations

import logging

from mcpkit.errors import ConnectionFailed
from mcpkit.transports.http_client._endpoint_requests import RequestFailed
from mcpkit.transports.http_client._reading import Inbox
from mcpkit.transports.http_client._wire import error_reply
from mcpkit.types import RequestId

__all__ = ["FailedRequests", "unexpected"]

logger = logging.getLogger("mcpkit.client.http")

# Failed requests kept for the runtime to take (`failed_here`). Bounded: the runtime takes
# one only when it reads the matching error answer, and a request whose caller timed out
# first is never asked about, so without a bound they would pile up.
_MAX_FAILURES = 256


class FailedRequests:
    """Our requests HTTP failed: their error answers go to `inbox`; the connection failures
    among them wait here for the runtime to take (`take`)."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        # Requests HTTP could not carry, answered here: what their callers get instead.
        self._failures: dict[RequestId, ConnectionFailed] = {}

    def take(self, request_id: RequestId) -> ConnectionFailed | None:
        """Take the connection failure kept for `request_id`, or None when there is none."""
        return self._failures.pop(request_id, None) if self._failures else None

    async def answer(self, rid: RequestId, exc: RequestFailed) -> None:
        """Answer our own request that HTTP failed, so the session forgets it and its caller
        stops waiting; a failure of the connection itself is a `ConnectionFailed` for the
        caller (the runtime asks `failed_here`), the server's refusal a PeerError."""
        # Only failures of the connection are kept for `failed_here`: the runtime raises
        # those as ConnectionFailed (trying again may help); a server's refusal stays an error.
        if exc.data is not None and "transportError" in exc.data:
            if len(self._failures) >= _MAX_FAILURES:  # answers nobody took (timed out)
                del self._failures[next(iter(self._failures))]
            self._failures[rid] = ConnectionFailed(str(exc))
        await self._inbox.put(error_reply(rid, str(exc), code=exc.code, data=exc.data))


def unexpected(method: str, url: str, exc: Exception) -> RequestFailed:
    """A request's task met an exception nothing below it maps (an httpx error of a kind it
    should not raise here, a custom httpx transport's, a bug of ours): it fails the request,
    as a transport failure, rather than escape the task and leave its caller waiting for the
    timeout. Logged with its traceback, since nobody expects it."""
    logger.error("%s to %s failed", method, url, exc_info=exc)
    return RequestFailed(
        f"{method}: sending it to {url} failed: {type(exc).__name__}: {exc}",
        data={"transportError": type(exc).__name__},
    )
