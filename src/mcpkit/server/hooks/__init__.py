"""Typed middleware: one hook per operation, and the ready-made middleware built on it."""

from __future__ import annotations

from mcpkit.server.hooks.error_transform import ErrorTransform
from mcpkit.server.hooks.keepalive import KeepAlive
from mcpkit.server.hooks.retry import RetryTools
from mcpkit.server.hooks.schema_refs import DereferenceSchemas
from mcpkit.server.hooks.typed import (
    AnswerNext,
    CallToolNext,
    GetPromptNext,
    InitializeNext,
    ListNext,
    ReadResourceNext,
    TypedMiddleware,
)

__all__ = [
    "AnswerNext",
    "CallToolNext",
    "DereferenceSchemas",
    "ErrorTransform",
    "GetPromptNext",
    "InitializeNext",
    "KeepAlive",
    "ListNext",
    "ReadResourceNext",
    "RetryTools",
    "TypedMiddleware",
]
