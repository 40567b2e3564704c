"""Put a stdio server on the network: examples/everything.py, which speaks stdio, served over
Streamable HTTP by a proxy (each HTTP session gets a process of its own).

    python examples/proxy.py                     # http://127.0.0.1:8000/mcp
    mcpkit run examples/proxy.py --transport http --port 9000

The same from the command line, for any server: `mcpkit proxy examples/everything.py
--transport http`. docs/proxy.md has the details (and how to add authorization).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mcpkit.proxy import ProxyServer

EVERYTHING = Path(__file__).resolve().parent / "everything.py"

server = ProxyServer(
    [sys.executable, str(EVERYTHING)],
    upstream_timeout=120,  # seconds a forwarded request may take before it is cancelled
    max_upstreams=8,  # HTTP sessions (so processes) at once
)

if __name__ == "__main__":
    server.run(transport="http")
