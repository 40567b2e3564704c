"""The four tools of the one-CPU benchmark (bench/one_cpu.py), registered the same way on every
Python SDK: `register(server.tool)`.

The tools follow the public multi-language MCP benchmark (TM Dev Lab's, docs/performance.md,
"One CPU, 50 users"): a recursive Fibonacci (CPU), a fetch (I/O), a JSON transformation and a
database query that waits `delay_ms`. The fetch there is an HTTP GET to a mock API; here it is a
wait of `FETCH_WAIT_S`, so that no HTTP client's cost, nor a mock server's, is in the figures.
The CPU-bound tools are plain `def` and the waiting ones `async def`, as the public Python server
writes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["FETCH_WAIT_S", "fibonacci", "register", "transform"]

FETCH_WAIT_S = 0.002


def fibonacci(n: int) -> int:
    """The n-th Fibonacci number, recursively: the CPU-bound part of the mix."""
    return n if n <= 1 else fibonacci(n - 1) + fibonacci(n - 2)


def transform(value: Any) -> Any:
    """Every string in a JSON value upper-cased."""
    if isinstance(value, dict):
        return {key: transform(item) for key, item in value.items()}
    if isinstance(value, list):
        return [transform(item) for item in value]
    return value.upper() if isinstance(value, str) else value


def register(tool: Callable[[], Callable[[Callable[..., Any]], Any]]) -> None:
    """Register the four tools with an SDK's `tool()` decorator factory."""

    @tool()
    def calculate_fibonacci(n: int) -> dict[str, Any]:
        """The n-th Fibonacci number, computed recursively (0 <= n <= 40)."""
        if not 0 <= n <= 40:
            raise ValueError(f"n must be between 0 and 40, not {n}")
        return {"input": n, "result": fibonacci(n)}

    @tool()
    async def fetch_external_data(endpoint: str) -> dict[str, Any]:
        """Fetch a document from an endpoint (simulated: a short wait)."""
        await asyncio.sleep(FETCH_WAIT_S)
        return {"url": endpoint, "status_code": 200, "body": {"ok": True}}

    @tool()
    def process_json_data(data: dict[str, Any]) -> dict[str, Any]:
        """Upper-case every string of a JSON object."""
        return {"original_keys": list(data), "transformed_data": transform(data)}

    @tool()
    async def simulate_database_query(query: str, delay_ms: int = 0) -> dict[str, Any]:
        """Run a query (simulated: a wait of delay_ms, 0 to 5,000)."""
        if not 0 <= delay_ms <= 5000:
            raise ValueError(f"delay_ms must be between 0 and 5000, not {delay_ms}")
        await asyncio.sleep(delay_ms / 1000)
        return {"query": query, "delay_ms": delay_ms, "rows": 1}
