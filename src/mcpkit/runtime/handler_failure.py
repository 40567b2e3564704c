"""The error that answers a request whose handler failed (`handler_error`, the one place that
says it: a session's `Connection` and a 2026-07-28 POST's `mcpkit.server.request_peer` both
ask it), and how the failure of an
application's handler (a tool, a resource, a prompt, a task) is logged: an expected refusal in
one WARNING line, anything else at ERROR with the traceback of the application's own code,
mcpkit's frames that lead to it left out."""

from __future__ import annotations

import logging
import os
from types import TracebackType

from mcpkit.errors import LocalProtocolError, McpError, ToolError
from mcpkit.protocol import codes

__all__ = [
    "EXPECTED_REFUSALS",
    "handler_error",
    "log_handler_failure",
    "user_traceback",
]

_logger = logging.getLogger("mcpkit")

#: Refusals a handler meets in normal use, with a message that says all there is to say: a
#: ToolError it raised on purpose, or a request the protocol does not allow here (elicitation
#: asked of a 2024-11-05 client, or of one a stateless server cannot reach).
EXPECTED_REFUSALS = (ToolError, LocalProtocolError)

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def handler_error(method: str, exc: Exception) -> McpError:
    """The error that answers a `method` request whose handler raised `exc`: an McpError as
    it is, anything else as -32603 (logged)."""
    if isinstance(exc, McpError):
        return exc
    log_handler_failure(_logger, f"handler for {method}", exc)
    return McpError(codes.INTERNAL_ERROR, f"Internal error: {exc}")


def log_handler_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log that `what` ("tool 'add'", "handler for resources/read") failed with `exc`."""
    if isinstance(exc, EXPECTED_REFUSALS):  # its name and message are the whole story
        logger.warning("%s: %s: %s", what, type(exc).__name__, exc)
        return
    logger.error("%s failed", what, exc_info=(type(exc), exc, user_traceback(exc.__traceback__)))


def user_traceback(tb: TracebackType | None) -> TracebackType | None:
    """`tb` without mcpkit's frames above or between the application's: the frames from the
    application's first down, and mcpkit's below its last (where mcpkit raised what the
    application called it for). All of `tb` when no frame is the application's (a bug of
    mcpkit's own, whose frames are the story)."""
    frames: list[TracebackType] = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    users = [i for i, entry in enumerate(frames) if not _ours(entry)]
    if not users:
        return frames[0] if frames else None
    last = users[-1]
    kept = [entry for i, entry in enumerate(frames) if i >= users[0] and (i > last or i in users)]
    if len(kept) == len(frames) - users[0]:
        return frames[users[0]]  # none of ours between: the original chain from there on
    built: TracebackType | None = None
    for entry in reversed(kept):
        built = TracebackType(built, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return built


def _ours(entry: TracebackType) -> bool:
    return entry.tb_frame.f_code.co_filename.startswith(_PACKAGE)
