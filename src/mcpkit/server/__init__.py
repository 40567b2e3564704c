"""The server framework: `Server`, `Context`, dependency markers, the feature specs, content
helpers, tool transforms and middleware.

- `Server` registers tools, resources, prompts and skills, and serves them over stdio,
  Streamable HTTP or in memory, in both protocol revisions (docs/server.md, docs/eras.md);
  `Server.from_openapi` and `Server.from_fastapi` make one of an HTTP API's operations.
- `Context` is what a handler gets for the request it serves: logging, progress, questions
  to the client (`sample`, `elicit`, `list_roots`), state and the caller's identity.
- `Depends`, `CurrentToken`, `TokenClaims`, `RequestHeaders` and `LifespanState` mark
  parameters the server fills per call; they never appear in a tool's input schema. Each
  dependency runs once per call, and one written as a generator or a context manager is
  exited after the handler.
- `ToolSpec`, `ResourceSpec`, `TemplateSpec`, `PromptSpec` and `SkillSpec` are what a
  registration returns: each checked once, when it is made, so a mistake is refused where
  it is written (`RegistrationWarning` for what works but is likely not meant).
- `text`, `image`, `audio`, `resource_link` and `embedded_resource` build the content
  blocks a handler may return (server/tools, "Tool Result").
- `ToolTransform`, `Arg`, `Forward` and `OriginalToolError` derive a tool from another
  (docs/compose.md, "Tool transforms").
- `TypedMiddleware` is middleware with one hook per operation; `ErrorTransform`,
  `KeepAlive`, `RetryTools` and `DereferenceSchemas` are built on it. `ResponseCache`
  answers repeated calls from the server's store, and `ResultBudget` bounds what a
  tool's result may carry.
- `ElicitationResult` is what `ctx.elicit` returns; `Peer` is the client of a request as
  its handler sees it (`ctx.session`), a `ServerSessionHandle` where the request came on
  a session; `CachePolicy` says how long a cacheable result stays fresh
  (server/utilities/caching).
"""

from __future__ import annotations

from mcpkit.protocol.modern import CachePolicy
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
from mcpkit.server.catalog.calling.result_budget import ResultBudget
from mcpkit.server.catalog.prompts import PromptSpec
from mcpkit.server.catalog.registration_checks import RegistrationWarning
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec
from mcpkit.server.catalog.skills import SkillSpec
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.transform_wrap import Forward, OriginalToolError
from mcpkit.server.catalog.transforms import Arg, ToolTransform, ToolTransforms
from mcpkit.server.context import Context, ElicitationResult
from mcpkit.server.middleware import (
    DereferenceSchemas,
    ErrorTransform,
    RetryTools,
    TypedMiddleware,
)
from mcpkit.server.middleware.response_cache import ResponseCache
from mcpkit.server.server import Server
from mcpkit.server.serving.keepalive import KeepAlive
from mcpkit.server.session import Peer, ServerSessionHandle

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
