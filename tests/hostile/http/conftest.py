"""The HTTP section of the hostile suite: attacks on the Streamable HTTP and legacy servers
(memory, availability, budgets), served on 127.0.0.1 with the HTTP tests' helpers."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_TESTS / "http"))  # _serving: uvicorn on an ephemeral port, raw httpx
sys.path.insert(0, str(_TESTS / "auth"))  # _resource_helpers: a protected server's tokens
