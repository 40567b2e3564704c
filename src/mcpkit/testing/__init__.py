"""Helpers for testing MCP servers and clients: the only layer that holds both ends.

```python
from mcpkit.testing import connected, raw_session

async with connected(server) as client:          # a real Client over the in-memory pair
    assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {...}

async with raw_session(server) as peer:          # speak raw JSON-RPC to a server
    reply = await peer.request("tools/list")
    await peer.send_bytes(b"{not json")
    assert (await peer.receive())["error"]["code"] == -32700

run_with_fake_clock(test_a_timeout())            # timers fire at once, in virtual time
```

`mcpkit.testing.stores` has the checks every session, event and task store passes.

Names load lazily: pytest imports this package for mcpkit's plugin (`_pytest`) in every
run, and that must not cost the import of the client and the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["FakeClockLoop", "RawPeer", "connected", "raw_session", "run_with_fake_clock"]

_LAZY: dict[str, str] = {
    "FakeClockLoop": "mcpkit.testing._clock",
    "RawPeer": "mcpkit.testing._pair",
    "connected": "mcpkit.testing._pair",
    "raw_session": "mcpkit.testing._pair",
    "run_with_fake_clock": "mcpkit.testing._clock",
}

if TYPE_CHECKING:
    from mcpkit.testing._clock import FakeClockLoop, run_with_fake_clock
    from mcpkit.testing._pair import RawPeer, connected, raw_session


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpkit.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
