"""The server framework: `Server`, `Context`, dependency markers, the feature specs, content
helpers, tool transforms and middleware."""

from __future__ import annotations

from mcpkit.protocol.own_terms import CachePolicy
from mcpkit.server.catalog.content import audio, embedded_resource, image, resource_link, text
from mcpkit.server.catalog.depends import (
    CurrentToken,
    Depends,
    LifespanState,
    RequestHeaders,
    TokenClaims,
)
from mcpkit.server.catalog.prompts import PromptSpec
from mcpkit.server.catalog.registration_checks import RegistrationWarning
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec
from mcpkit.server.catalog.result_budget import ResultBudget
from mcpkit.server.catalog.skills import SkillSpec
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.transforms import (
    Arg,
    Forward,
    OriginalToolError,
    ToolTransform,
    ToolTransforms,
)
from mcpkit.server.context import Context, ElicitationResult
from mcpkit.server.hooks import (
    DereferenceSchemas,
    ErrorTransform,
    KeepAlive,
    RetryTools,
    TypedMiddleware,
)
from mcpkit.server.server import Server
from mcpkit.server.session import Peer, ServerSessionHandle
from mcpkit.server.state.response_cache import ResponseCache

__all__ = [
    "Arg",
    "CachePolicy",
    "Context",
    "CurrentToken",
    "Depends",
    "DereferenceSchemas",
    "ElicitationResult",
    "ErrorTransform",
    "Forward",
    "LifespanState",
    "KeepAlive",
    "OriginalToolError",
    "Peer",
    "PromptSpec",
    "RegistrationWarning",
    "RequestHeaders",
    "ResourceSpec",
    "ResultBudget",
    "ResponseCache",
    "RetryTools",
    "Server",
    "ServerSessionHandle",
    "SkillSpec",
    "TemplateSpec",
    "TokenClaims",
    "ToolSpec",
    "ToolTransform",
    "ToolTransforms",
    "TypedMiddleware",
    "audio",
    "embedded_resource",
    "image",
    "resource_link",
    "text",
]
