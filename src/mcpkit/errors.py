"""One exception tree for mcpkit, rooted at McpkitError.

`McpError` maps one-to-one to a JSON-RPC error object; the wire codes live in
`mcpkit.protocol.codes`. Misuse caught before anything is sent (`LocalProtocolError`), bytes
from the peer that break the protocol below JSON-RPC (`RemoteProtocolError`) and transport
failures (`TransportError`) are siblings of `McpError`, not kinds of it: they have no wire
code, and a handler that lets one escape must not answer the peer with an invented code that
blames it. Catch `McpkitError` for all of them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "AuthorizationFailed",
    "ConnectionClosed",
    "ConnectionFailed",
    "ElicitationContentInvalid",
    "InsufficientScope",
    "InvalidToken",
    "InvalidUrl",
    "LocalProtocolError",
    "McpError",
    "McpkitError",
    "MissingExtra",
    "PeerError",
    "RemoteProtocolError",
    "RequestTimeout",
    "SkillError",
    "SkillVerificationFailed",
    "ToolError",
    "TransportError",
    "UnsupportedAnnotation",
    "UrlElicitationRequired",
    "VerifierUnavailable",
]

# Kept here (not imported from protocol.codes) so that errors stays the bottom layer.
_URL_ELICITATION_REQUIRED = -32042
_REQUEST_TIMEOUT = -32001


class McpkitError(Exception):
    """The root of every exception mcpkit raises on purpose."""


class McpError(McpkitError):
    """A JSON-RPC error: raised by a handler to answer with it, or raised to a caller that got it.

    `code`, `message` and `data` are sent as the error object's fields as they are.
    """

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"


class PeerError(McpError):
    """The peer answered one of our requests with this JSON-RPC error (or with a result
    that does not fit the method's schema)."""


class RequestTimeout(McpError):
    """A request got no response within its deadline; the peer was told it is cancelled."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(_REQUEST_TIMEOUT, message, data)


class UrlElicitationRequired(McpError):
    """Raised by a tool to tell the client it must complete URL elicitations first (-32042).

    `elicitations` is a list of URL-mode elicitation params (each with `mode`, `url`,
    `message` and `elicitationId`).
    """

    def __init__(self, elicitations: list[Any], message: str | None = None) -> None:
        super().__init__(
            _URL_ELICITATION_REQUIRED,
            message or "This request requires more information via URL elicitation.",
            {"elicitations": elicitations},
        )
        self.elicitations = elicitations


class ToolError(McpkitError):
    """Raised inside a tool to return an `isError: true` result whose text is this message.

    Any other exception from a tool does the same, but its message is reported as an
    internal error; raise ToolError when the text is meant for the model.
    """


class ElicitationContentInvalid(ToolError):
    """The client accepted an elicitation with content that does not fit the requested schema.

    A ToolError, so inside a tool it becomes an `isError` result that says what was wrong.
    """


class LocalProtocolError(McpkitError):
    """We were asked to do something the protocol does not allow (our caller's fault),
    such as a request whose capability the peer never declared; nothing was sent.

    Not an `McpError`: inside a tool it becomes an `isError` result the model can read
    rather than a protocol error with a made-up code.
    """


class RemoteProtocolError(McpkitError):
    """The peer sent bytes that break the protocol below JSON-RPC (the peer's fault), such
    as an SSE line longer than the limit; the stream they came on cannot be trusted further.

    Raised by the sans-I/O parsers (`mcpkit.transports.sse_parser`); a transport ends that stream
    (and may reconnect) rather than answer it, since there is no request to answer.
    """


class SkillError(McpkitError):
    """A skill (SEP-2640) that cannot be served or loaded as it is: a SKILL.md without the
    frontmatter the Agent Skills format requires, a name that breaks its rules, a skill entry
    of the wrong shape. The message says what, and where."""


class SkillVerificationFailed(SkillError):
    """A skill file read from a server is not what the skill's entry describes (its size,
    its digest, its frontmatter), or is not listed in it: the content must not be used.

    `uri` is the file's; `reason` one of "size", "digest", "frontmatter", "unlisted",
    "entry". Refresh the entry (`client.get_skill`) to recover from a stale one."""

    def __init__(self, uri: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.uri = uri
        self.reason = reason


class InvalidUrl(McpkitError, ValueError):
    """A URL that cannot name an MCP endpoint (a bracket left open, a port out of range, no
    host, another scheme): refused before any connection is tried. `url` is the URL as
    given, `part` the part at fault ("scheme", "host", "port" or "characters")."""

    def __init__(self, url: str, part: str, message: str) -> None:
        super().__init__(message)
        self.url = url
        self.part = part


class MissingExtra(McpkitError, ModuleNotFoundError):
    """A part of mcpkit needs a package of one of its extras, and that package is not
    installed. `name` is the module that failed to import and `extra` the extra to install
    (`pip install 'mcpkit[<extra>]'`, which the message names)."""

    def __init__(self, message: str, *, name: str, extra: str) -> None:
        super().__init__(message, name=name)
        self.extra = extra


class UnsupportedAnnotation(McpkitError, TypeError):
    """A function's annotation has no JSON Schema, so the function cannot become a tool,
    prompt or resource template. `function`, `parameter` (None for the return annotation)
    and `annotation` say which; the message names the types that work."""

    def __init__(
        self, message: str, *, function: str, parameter: str | None, annotation: object
    ) -> None:
        super().__init__(message)
        self.function = function
        self.parameter = parameter
        self.annotation = annotation


class TransportError(McpkitError):
    """The server could not be reached or was lost, whatever the transport: a process that
    could not start or died, a connection refused or reset, a name that does not resolve, a
    stream that ended. Catch this one for all of them."""


class ConnectionClosed(TransportError):
    """The connection ended; pending requests fail with this."""


class ConnectionFailed(TransportError):
    """HTTP could not carry one request to the server and back: the connection was refused
    or reset, the server's name does not resolve, TLS failed, or its answer was cut and
    could not be resumed. The request may or may not have reached the server."""


class AuthError(McpkitError):
    """Authorization failed. `error` is the OAuth error code (RFC 6749 section 5.2, RFC 6750
    section 3.1) and `description` the human-readable reason; neither holds a token."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class InvalidToken(AuthError):
    """A resource server refused an access token (RFC 6750 `invalid_token`: expired, not yet
    valid, for another resource or issuer, badly signed, revoked, unknown); HTTP 401."""

    def __init__(self, description: str) -> None:
        super().__init__("invalid_token", description)


class VerifierUnavailable(AuthError):
    """A resource server could neither accept nor refuse a token: what its verifier needs
    (the issuer's key set, the introspection endpoint) failed, timed out or answered
    nonsense. HTTP 503 with Retry-After, so the client keeps its token and tries again
    (a 401 would make it throw a good token away and authorize again)."""

    def __init__(self, description: str) -> None:
        super().__init__("temporarily_unavailable", description)


class InsufficientScope(AuthError):
    """The token is valid but lacks scopes the request needs (RFC 6750 `insufficient_scope`);
    HTTP 403 with the scopes to ask for, so a client can step up (spec: basic/authorization,
    "Scope Challenge Handling")."""

    def __init__(self, scopes: tuple[str, ...] | list[str], description: str = "") -> None:
        self.scopes = tuple(scopes)
        super().__init__(
            "insufficient_scope", description or f"this needs scope {' '.join(self.scopes)}"
        )


class AuthorizationFailed(AuthError):
    """A client could not obtain or refresh an access token: discovery, registration, the
    authorization step or the token endpoint failed. `status` is the HTTP status that ended
    it, when there was one."""

    def __init__(self, error: str, description: str = "", *, status: int | None = None) -> None:
        super().__init__(error, description)
        self.status = status


def shown_when_masked(exc: BaseException) -> bool:
    """Whether `exc`'s text goes to the peer even under `Server(mask_error_details=True)`:
    mcpkit's own words about how it was used (a capability the client never declared, a
    lifespan that is not running), which hold none of the application's data. Not a
    transport's or an auth failure's, which may name internal hosts; never another
    library's or the application's exception."""
    return isinstance(exc, McpkitError) and not isinstance(
        exc, (TransportError, RemoteProtocolError, AuthError)
    )
