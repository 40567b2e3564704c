"""docs/client.md's Middleware example runs as written: a client that waits as a rate-limited
server asks and tries once more, with tracing on."""

from __future__ import annotations

import pathlib
import re
from typing import Any

from mcpkit import Client, Server
from mcpkit.client.tracing import ClientTracing
from mcpkit.server.middleware.rate_limit import RateLimit

DOC = pathlib.Path(__file__).parents[2] / "docs" / "client.md"


def middleware_block() -> dict[str, Any]:
    section = DOC.read_text().split("## Middleware\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "docs_client"}
    exec(compile(block, str(DOC), "exec"), namespace)  # our own docs, as a reader runs them
    return namespace


async def test_the_patient_client_waits_and_retries(fake_clock: Any) -> None:
    calls: list[float] = []
    server = Server("limited", middleware=[RateLimit(rate=0.5, burst=1, per="session")])

    @server.tool()
    def stamp() -> str:
        calls.append(fake_clock.time())
        return "ok"

    patient_client = middleware_block()["patient_client"]
    client: Client = patient_client(server)
    assert isinstance(client.middleware[0], ClientTracing)
    async with client:
        start = fake_clock.time()
        assert (await client.call_tool("stamp")).text == "ok"
        assert (await client.call_tool("stamp")).text == "ok"  # refused, waited 2 s, sent again
    assert [round(t - start, 3) for t in calls] == [0.0, 2.0]
