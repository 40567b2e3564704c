"""The cost of one message through a Streamable HTTP / legacy SSE stream's queue
(`Stream.put` then its reader's `next_event`), in process: what every SSE message pays.

    .venv/bin/python bench/stream_queue.py
"""

from __future__ import annotations

import asyncio
import time

from mcpkit.transports.http.sse_stream import Stream

MESSAGE = b'{"jsonrpc":"2.0","id":1,"result":{"content":[]}}'
ROUNDS = 5
PER_ROUND = 200_000


async def one_round() -> float:
    stream = Stream()
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        await stream.put(MESSAGE)
        await stream.reading().next_event(stream.generation)
    return (time.perf_counter() - started) / PER_ROUND


async def main() -> None:
    best = min([await one_round() for _ in range(ROUNDS)])
    print(f"Stream put + next_event: {best * 1e9:.0f} ns per message (best of {ROUNDS})")


if __name__ == "__main__":
    asyncio.run(main())
