"""mcpkit: the Model Context Protocol for Python - server framework, client and transports.

Public names load lazily, so `import mcpkit` costs almost nothing until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AuthError",
    "AuthorizationFailed",
    "Client",
    "ClientTask",
    "ConnectionClosed",
    "ConnectionFailed",
    "Context",
    "CurrentToken",
    "Depends",
    "ElicitationContentInvalid",
    "ElicitationResult",
    "InsufficientScope",
    "InvalidToken",
    "InvalidUrl",
    "LifespanState",
    "LocalProtocolError",
    "McpError",
    "McpkitError",
    "MissingExtra",
    "PeerError",
    "ProxyServer",
    "RegistrationWarning",
    "RemoteProtocolError",
    "RequestHeaders",
    "RequestInfo",
    "RequestTimeout",
    "Server",
    "SkillError",
    "SkillVerificationFailed",
    "StdioParameters",
    "StreamableHttpTransport",
    "TokenClaims",
    "ToolError",
    "ToolResult",
    "TransportError",
    "UnsupportedAnnotation",
    "UrlElicitationRequired",
    "VerifierUnavailable",
    "__version__",
    "audio",
    "embedded_resource",
    "image",
    "resource_link",
    "text",
]

_LAZY: dict[str, str] = {
    "__version__": "mcpkit._version",
    "AuthError": "mcpkit.errors",
    "AuthorizationFailed": "mcpkit.errors",
    "Client": "mcpkit.client.client",
    "ClientTask": "mcpkit.client.task_requestor",
    "ConnectionClosed": "mcpkit.errors",
    "ConnectionFailed": "mcpkit.errors",
    "Context": "mcpkit.server.context",
    "CurrentToken": "mcpkit.server.catalog.calling.depends",
    "Depends": "mcpkit.server.catalog.calling.depends",
    "ElicitationContentInvalid": "mcpkit.errors",
    "ElicitationResult": "mcpkit.server.context",
    "InsufficientScope": "mcpkit.errors",
    "InvalidToken": "mcpkit.errors",
    "InvalidUrl": "mcpkit.errors",
    "LifespanState": "mcpkit.server.catalog.calling.depends",
    "LocalProtocolError": "mcpkit.errors",
    "McpError": "mcpkit.errors",
    "McpkitError": "mcpkit.errors",
    "MissingExtra": "mcpkit.errors",
    "PeerError": "mcpkit.errors",
    "ProxyServer": "mcpkit.proxy",
    "RegistrationWarning": "mcpkit.server.catalog.registration_checks",
    "RemoteProtocolError": "mcpkit.errors",
    "RequestHeaders": "mcpkit.server.catalog.calling.depends",
    "RequestInfo": "mcpkit.protocol.events",
    "RequestTimeout": "mcpkit.errors",
    "Server": "mcpkit.server.server",
    "SkillError": "mcpkit.errors",
    "SkillVerificationFailed": "mcpkit.errors",
    "StdioParameters": "mcpkit.transports.stdio_client",
    "StreamableHttpTransport": "mcpkit.transports.http_client",  # imports httpx: only when used
    "TokenClaims": "mcpkit.server.catalog.calling.depends",
    "ToolError": "mcpkit.errors",
    "ToolResult": "mcpkit.client.results",
    "TransportError": "mcpkit.errors",
    "UnsupportedAnnotation": "mcpkit.errors",
    "UrlElicitationRequired": "mcpkit.errors",
    "VerifierUnavailable": "mcpkit.errors",
    "audio": "mcpkit.server.catalog.calling.content",
    "embedded_resource": "mcpkit.server.catalog.calling.content",
    "image": "mcpkit.server.catalog.calling.content",
    "resource_link": "mcpkit.server.catalog.calling.content",
    "text": "mcpkit.server.catalog.calling.content",
}

if TYPE_CHECKING:
    from mcpkit._version import __version__
    from mcpkit.client.client import Client
    from mcpkit.client.results import ToolResult
    from mcpkit.client.task_requestor import ClientTask
    from mcpkit.errors import (
        AuthError,
        AuthorizationFailed,
        ConnectionClosed,
        ConnectionFailed,
        ElicitationContentInvalid,
        InsufficientScope,
        InvalidToken,
        InvalidUrl,
        LocalProtocolError,
        McpError,
        McpkitError,
        MissingExtra,
        PeerError,
        RemoteProtocolError,
        RequestTimeout,
        SkillError,
        SkillVerificationFailed,
        ToolError,
        TransportError,
        UnsupportedAnnotation,
        UrlElicitationRequired,
        VerifierUnavailable,
    )
    from mcpkit.protocol.events import RequestInfo
    from mcpkit.proxy import ProxyServer
    from mcpkit.server.catalog.calling.content import (
        audio,
        embedded_resource,
        image,
        resource_link,
        text,
    )
    from mcpkit.server.catalog.calling.depends import (
        CurrentToken,
        Depends,
        LifespanState,
        RequestHeaders,
        TokenClaims,
    )
    from mcpkit.server.catalog.registration_checks import RegistrationWarning
    from mcpkit.server.context import Context, ElicitationResult
    from mcpkit.server.server import Server
    from mcpkit.transports.http_client import StreamableHttpTransport
    from mcpkit.transports.stdio_client import StdioParameters


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
