"""Where the ids of our own requests come from: one source per process.

JSON-RPC only asks that an id be unique among a sender's requests in flight; a counter per
session that restarts at 0 meets that. We take them from one source per process instead,
so that an id names one request of one process for as long as the process lives:

- a response can be told from a response to another session's request (a broken or
  hostile peer that echoes a neighbour's id is answering nothing of ours);
- with a prefix, an id also says which process sent the request. When several processes
  serve one session, the process that receives a client's answer (a POST to any of them)
  hands it to the one whose prefix it carries.

Without a prefix the ids are integers (0, 1, 2, ...), as every MCP peer expects; with one
they are strings, `"<prefix>-17"`: the number after the last `-` is the count and what is
before it the prefix, so two prefixes never make the same id. Both are valid `RequestId`s
(basic/index: "string or integer"). The counter is shared by every thread: `next()` on an
`itertools.count` is one C call, which the GIL does not split.
"""

from __future__ import annotations

import itertools
from typing import Final

from mcpkit.types import RequestId

__all__ = ["RequestIds", "process_request_ids", "set_request_id_prefix"]


class RequestIds:
    """A source of request ids: unique among everything it hands out."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self, prefix: str = "") -> None:
        self._counter = itertools.count()
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        """What the ids handed out from now on start with; "" for integer ids."""
        return self._prefix

    @prefix.setter
    def prefix(self, value: str) -> None:
        # The counter goes on, so no id handed out before comes out again.
        self._prefix = value

    def next(self) -> RequestId:
        """The next id: an int without a prefix, else `"<prefix>-<number>"`."""
        n = next(self._counter)
        prefix = self._prefix
        return f"{prefix}-{n}" if prefix else n

    def issued(self, request_id: RequestId) -> bool:
        """Whether `request_id` may be one of ours: it carries our prefix (every int does
        when we have none). A response whose id fails this belongs to another process."""
        prefix = self._prefix
        if not prefix:
            return isinstance(request_id, int)
        if not isinstance(request_id, str):
            return False
        head, dash, count = request_id.rpartition("-")
        return bool(dash) and head == prefix and count.isascii() and count.isdigit()


_PROCESS: Final = RequestIds()


def process_request_ids() -> RequestIds:
    """The process's id source, the one every session uses unless it is given another."""
    return _PROCESS


def set_request_id_prefix(prefix: str) -> None:
    """Give every request this process sends from now on an id starting with `prefix`
    (a process or host name, say, when several processes share sessions). An empty prefix
    goes back to integer ids."""
    if not isinstance(prefix, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"a request id prefix is a string, not {type(prefix).__name__}")
    _PROCESS.prefix = prefix
