"""`bench/app_instructions.py` with one OpenTelemetry layer added to the bench server: what a
configured `ServerMetrics` or `ServerTracing` costs a `tools/call`, in instructions
(docs/performance.md, "OpenTelemetry metrics").

    python bench/otel_instructions.py --layer metrics --era 2026-07-28 --answers json --no-gc

`--layer`: `passthrough` (a layer that only calls on: what any middleware costs), `metrics`
(`ServerMetrics()`, no meter provider set: the API's instruments, which record nothing),
`metrics-sdk` (`ServerMetrics` with the SDK's `MeterProvider` and an in-memory reader),
`tracing-sdk` (`ServerTracing` with the SDK's `TracerProvider`, no exporter). The other
options are app_instructions.py's. The layer travels to the counted child in an environment
variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent)]

import app_instructions  # noqa: E402  (bench/ is put on the path just above)

LAYERS = ("passthrough", "metrics", "metrics-sdk", "tracing-sdk")
_VARIABLE = "MCPKIT_BENCH_OTEL_LAYER"
_plain_app = app_instructions.bench_app


async def _passthrough(ctx: Any, params: Any, call_next: Any) -> Any:
    return await call_next(params)


def _layer(name: str) -> Any:
    if name == "passthrough":
        return _passthrough
    if name == "tracing-sdk":
        from opentelemetry.sdk.trace import TracerProvider

        from mcpkit.server.middleware.tracing import ServerTracing

        return ServerTracing(TracerProvider())
    from mcpkit.server.middleware.tracing import ServerMetrics

    if name == "metrics":
        return ServerMetrics()
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    return ServerMetrics(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def bench_app(tools: str, answers: str) -> Any:
    """app_instructions.py's app, its server with the layer added."""
    if tools == "async":
        import mcpkit_server_async as module
    else:
        import mcpkit_server as module
    module.server.add_middleware(_layer(os.environ[_VARIABLE]))
    return _plain_app(tools, answers)


def main() -> int:
    args = sys.argv[1:]
    if "--layer" in args:
        at = args.index("--layer")
        layer = args[at + 1] if at + 1 < len(args) else ""
        if layer not in LAYERS:
            raise SystemExit(f"otel_instructions: --layer {layer!r}: one of {', '.join(LAYERS)}")
        os.environ[_VARIABLE] = layer
        del args[at : at + 2]
    elif _VARIABLE not in os.environ:
        raise SystemExit(f"otel_instructions: --layer is needed: one of {', '.join(LAYERS)}")
    app_instructions.bench_app = bench_app
    app_instructions.__file__ = __file__  # the counted child is this script
    sys.argv[1:] = args
    return app_instructions.main()


if __name__ == "__main__":
    sys.exit(main())
