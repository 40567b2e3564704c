"""What the server's and the client's OpenTelemetry metrics (`ServerMetrics`, `ClientMetrics`)
share: their duration histograms, as the semantic conventions for MCP define them, and timing
one request into one.

The conventions followed: open-telemetry/semantic-conventions, docs/gen-ai/mcp.md ("Metrics")
at commit 953276ff4d04 (v1.41.0-11, May 2026: the last text there before the GenAI
conventions moved to open-telemetry/semantic-conventions-genai). Each metric is a histogram
in seconds, with the explicit bucket boundaries the conventions advise.

Importing this module does not import OpenTelemetry: `duration_histograms` does, when a
metrics middleware is constructed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal

from mcpkit._extras import needs_extra
from mcpkit.runtime.layers import CallNext, is_tool_error
from mcpkit.runtime.spans import TOOL_ERROR, failure_of

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider

    from mcpkit.protocol.terms import Terms

__all__ = ["DURATION_BUCKETS", "duration_histograms", "timed_call"]

#: The `ExplicitBucketBoundaries` the conventions advise for all four metrics, in seconds.
DURATION_BUCKETS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

# The conventions' descriptions of the operation metric, by side, so the exported metric
# describes itself as any conforming implementation's does.
_OPERATION: Final = {
    "server": "MCP request or notification duration as observed on the receiver from the "
    "time it was received until the result or ack is sent.",
    "client": "The duration of the MCP request or notification as observed on the sender "
    "from the time it was sent until the response or ack is received.",
}


def duration_histograms(
    side: Literal["server", "client"], meter_provider: MeterProvider | None, what: str
) -> tuple[Histogram, Histogram]:
    """`mcp.{side}.operation.duration` and `mcp.{side}.session.duration`, from the meter
    `mcpkit.{side}` of `meter_provider` (OpenTelemetry's global one if None); an ImportError
    saying that `what` needs the `otel` extra without OpenTelemetry."""
    with needs_extra("otel", what):
        from opentelemetry import metrics

    # One meter per side (`mcpkit.server`, `mcpkit.client`): the instrumentation scope says
    # which half of a process that is both (a proxy) recorded a figure.
    meter = metrics.get_meter(f"mcpkit.{side}", meter_provider=meter_provider)
    operation = meter.create_histogram(
        f"mcp.{side}.operation.duration",
        unit="s",
        description=_OPERATION[side],
        explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
    )
    session = meter.create_histogram(
        f"mcp.{side}.session.duration",
        unit="s",
        description=f"The duration of the MCP session as observed on the MCP {side}.",
        explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
    )
    return operation, session


async def timed_call(
    histogram: Histogram,
    attributes: dict[str, Any],
    side: Literal["server", "client"],
    clock: Callable[[], float],
    params: Any,
    call_next: CallNext,
    terms: Terms[Any] | None = None,
) -> Any:
    """`call_next(params)`, its duration recorded in `histogram` with `attributes` and, when
    it failed, the failure's (`failure_of` for a request served under `terms`, as a span has
    them; "tool_error" for a result with isError)."""
    # The clock is passed in (the middleware's), so tests time calls without sleeping.
    start = clock()
    try:
        result = await call_next(params)
    # CancelledError too: a cancelled request still took time, and is recorded with the
    # failure `failure_of` names for it before the cancellation goes on.
    except (Exception, asyncio.CancelledError) as exc:
        attributes.update(failure_of(exc, side, terms).attributes())
        histogram.record(clock() - start, attributes)
        raise
    # A tool's isError result is a success for JSON-RPC but a failure for the conventions'
    # error.type, so it is marked as one.
    if is_tool_error(result):
        attributes.update(TOOL_ERROR.attributes())
    histogram.record(clock() - start, attributes)
    return result
