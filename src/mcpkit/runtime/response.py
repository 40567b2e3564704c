"""Where the answer to one modern request (2026-07-28) is written: the
transport's `Response`, and the kinds of message written to it (`mcpkit.server.request_peer`
serves the request; `mcpkit.transports.http.own_calls.OwnCall` is the response)."""

from __future__ import annotations

from typing import Final, Literal, Protocol

__all__ = ["ANSWER", "MESSAGE", "RESULT", "Kind", "Response"]


Kind = Literal["message", "result", "answer"]
#: A message sent while serving (progress, a log message).
MESSAGE: Final = "message"
#: The final answer, when it is the handler's result.
RESULT: Final = "result"
#: The final answer, when it is an error or an answer the server gave itself.
ANSWER: Final = "answer"


class Response(Protocol):
    """Where a modern request is answered: the transport's response."""

    async def emit(self, data: bytes, kind: Kind) -> None:
        """Write one message: one sent while serving (`MESSAGE`), or the final answer."""
        ...

    def answer_as_json(self) -> None:
        """Send the final answer as one JSON object, not a stream (a poll of a task)."""
        ...
