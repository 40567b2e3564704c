"""A request that meets a kept-alive connection its server has just closed is sent once more,
on a new connection.

An HTTP/1.1 server closes a connection left idle past its keep-alive timeout (5 s for Node's
`http` and uvicorn), and a request written to it as it does is answered by a reset or by
nothing at all. The client's pool drops its connections idle 4 s (`KEEPALIVE_EXPIRY`), but a
loop held up past the difference still sends on one. RFC 9112, 9.3.1 "Retrying Requests":
a client may send a request again, even one that is not idempotent, when it knows the server
did not process it; a reused connection that fails before the first byte of the answer is
that sign, as browsers take it. A new connection that fails, a timeout, or an answer begun
are never sent again.
"""

from __future__ import annotations

from typing import Any, Final

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

__all__ = ["ReuseTrace", "met_a_closed_connection"]

#: The failures of a connection the server closed: a reset, a broken pipe, or its end before
#: an answer ("Server disconnected without sending a response").
_CLOSED: Final = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class ReuseTrace:
    """httpcore's `trace` extension for one request: whether its last attempt went out on a
    connection opened before it, and whether the head of an answer came back."""

    __slots__ = ("_opened", "answered", "reused")

    def __init__(self) -> None:
        self._opened = False  # a connection was opened for the attempt being made
        self.reused = False
        self.answered = False

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.complete":
            self._opened = True
        elif name.endswith(".send_request_headers.started"):  # (http11 or http2)
            self.reused, self._opened, self.answered = not self._opened, False, False
        elif name.endswith(".receive_response_headers.complete"):
            self.answered = True


def met_a_closed_connection(exc: httpx.TransportError) -> bool:
    """Whether `exc` is a request (one traced by `ReuseTrace`) that met a reused connection
    the server closed before answering: the request never reached it."""
    if not isinstance(exc, _CLOSED):
        return False
    try:
        trace = exc.request.extensions.get("trace")
    except RuntimeError:  # (httpx: no request attached to the error)
        return False
    return isinstance(trace, ReuseTrace) and trace.reused and not trace.answered
