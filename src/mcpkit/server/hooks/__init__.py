"""Typed middleware: one hook per operation, and the ready-made middleware built on it.

`TypedMiddleware` (`typed`) is subclassed, overriding only the hooks a middleware needs:
each hook gets plain values (a tool's name and arguments, a URI, a list of items) and a
`call_next` taking the same, and the adapters (`adapters`) turn it into a layer of the
server's one middleware chain (`runtime.layers`). Hooks not overridden add nothing to a
request. Ready-made on it: `ErrorTransform` (chosen exceptions answered with a message
of your choosing, their text kept in the log), `KeepAlive` (a quiet 2025-era session's
client pinged, and the session ended when it stops answering), `RetryTools` (a tool call
that failed with a passing fault made again, bounded) and `DereferenceSchemas` (`$ref`s
written out for clients that cannot follow them).
"""

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
