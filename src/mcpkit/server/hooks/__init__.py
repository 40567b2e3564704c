"""Typed middleware: one hook per operation, and the ready-made middleware built on it."""

from __future__ import annotations

from mcpkit.server.hooks.typed import (
    CallToolNext,
    GetPromptNext,
    ListNext,
    ReadResourceNext,
    TypedMiddleware,
)

__all__ = [
    "CallToolNext",
    "GetPromptNext",
    "ListNext",
    "ReadResourceNext",
    "TypedMiddleware",
]
