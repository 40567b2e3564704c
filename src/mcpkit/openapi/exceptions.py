"""What goes wrong when an OpenAPI document is read, or an operation of it called."""

from __future__ import annotations

from collections.abc import Mapping

from mcpkit.errors import McpkitError

__all__ = [
    "OpenApiArgumentError",
    "OpenApiError",
    "OpenApiRequestError",
    "OpenApiSpecError",
    "OpenApiStatusError",
]


class OpenApiError(McpkitError):
    """The root of the errors of `mcpkit.openapi`."""


class OpenApiSpecError(OpenApiError):
    """The document is one mcpkit cannot turn into tools; `where` is the JSON pointer of the
    offending part (`#/paths/~1pets/get/parameters/0`)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class OpenApiArgumentError(OpenApiError):
    """The arguments of a call cannot be turned into the operation's HTTP request."""


class OpenApiRequestError(OpenApiError):
    """The HTTP request of an operation failed before any answer came (httpx's error is the
    cause)."""


class OpenApiStatusError(OpenApiError):
    """The API answered with a status outside 2xx; `body` is its decoded error body (with what
    the operator configured, such as an API key it echoes, taken out). The message names the
    operation by its method and path template, never by the URL sent: that URL holds what the
    operator configured (a key in the query, `user:password` in the base URL), and the
    message reaches the MCP client. `url`, the URL sent, is for the operator's own code."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        body: object,
        url: str = "",
    ) -> None:
        shown = body if isinstance(body, str) else repr(body)
        super().__init__(f"{method} {path} answered {status}: {shown}")
        self.method = method
        self.path = path
        self.url = url
        self.status = status
        self.headers = dict(headers)
        self.body = body
