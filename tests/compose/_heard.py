"""A client's `on_notification` that keeps the list_changed notifications it hears, in order,
for the compose tests to await (each wait bounded by the test's own timeout)."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpkit.client import NotificationHandler


def list_changes() -> tuple[asyncio.Queue[str], NotificationHandler]:
    """The queue of the `notifications/*/list_changed` methods heard, and the callback to give
    `Client(on_notification=...)`."""
    heard: asyncio.Queue[str] = asyncio.Queue()

    def on_notification(method: str, params: Any) -> None:
        if method.endswith("/list_changed"):
            heard.put_nowait(method)

    return heard, on_notification
