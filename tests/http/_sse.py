"""Reading an SSE response event by event with raw httpx, for the resumption tests: each event
as the standard parses it (id, data, retry), comments seen, and the stream's end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from mcpkit.transports.sse_parser import SSEEvent, SSEParser

__all__ = ["Reader", "message"]


@dataclass
class Reader:
    """The events of one SSE response, read on demand; `comments` counts comment lines."""

    response: httpx.Response
    parser: SSEParser = field(default_factory=SSEParser)
    comments: int = 0
    retry: int | None = None
    ended: bool = False
    _chunks: AsyncIterator[bytes] | None = None
    _ready: list[SSEEvent] = field(default_factory=list[SSEEvent])

    async def next(self) -> SSEEvent | None:
        """The next event, or None once the response has ended."""
        if self._chunks is None:
            self._chunks = self.response.aiter_raw()
        while not self._ready:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self.ended = True
                return None
            self.comments += sum(1 for line in chunk.split(b"\n") if line.startswith(b":"))
            self._ready.extend(self.parser.feed(chunk))
            if self.parser.retry is not None:
                self.retry = self.parser.retry
        return self._ready.pop(0)

    async def take(self, n: int) -> list[SSEEvent]:
        found: list[SSEEvent] = []
        for _ in range(n):
            event = await self.next()
            assert event is not None, f"the stream ended after {found}"
            found.append(event)
        return found

    async def rest(self) -> list[SSEEvent]:
        found: list[SSEEvent] = []
        while (event := await self.next()) is not None:
            found.append(event)
        return found


def message(event: SSEEvent) -> Any:
    return msgspec.json.decode(event.data)
