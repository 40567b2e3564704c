"""`LegacyFallback`: how the Streamable HTTP transport says its server may speak the older
HTTP+SSE transport instead (spec: basic/transports, "Backwards Compatibility")."""

from __future__ import annotations

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import ConnectionClosed

__all__ = ["LegacyFallback"]

#: How an mcpkit server's 404 names its MCP endpoint (`transports.deployment.app`). Matched
#: as text because a 404 body has no structure to rely on; a server that words it otherwise
#: just gets the generic hint.
_ENDPOINT_NAMED = "MCP endpoint is "


# A ConnectionClosed: to a runtime that does not know of the fallback, the Streamable HTTP
# channel has ended, which is true; `transports.url_channel` catches it and carries on.
class LegacyFallback(ConnectionClosed):
    """The server refused our initialize POST with 400, 404 or 405: it may speak the old
    HTTP+SSE transport (basic/transports, "Backwards Compatibility"). `Client` acts on it by
    switching to that transport and sending `initialize_body` there."""

    def __init__(
        self, url: str, status: int, message: str, initialize_body: bytes, *, page: bool = False
    ) -> None:
        super().__init__(
            f"{url} refused the Streamable HTTP initialize with HTTP {status} ({message}); "
            "it may be an HTTP+SSE (2024-11-05) server"
        )
        self.url = url
        self.status = status
        self.server_message = message
        self.initialize_body = initialize_body
        #: The refusal was a web page (`server_message` says what it is): if HTTP+SSE fails
        #: too, that page is all there is to tell.
        self.page = page

    def not_mcp(self) -> str:
        """One line for a URL that speaks neither transport and answered with a web page.
        The first refusal is the one quoted: the HTTP+SSE attempt's error would only say
        that the page was not an event stream."""
        reason = httpx.codes.get_reason_phrase(self.status)
        return f"{self.url} answered HTTP {self.status} {reason}: {self.server_message}"

    def wrong_path(self) -> str:
        """One line for a URL whose server answered 404 to both transports, with no web page:
        its path is most likely not the MCP endpoint (mcpkit's own serve `/mcp`)."""
        head = f"{self.url} answered 404 to both Streamable HTTP and HTTP+SSE"
        # An mcpkit server's 404 names its endpoint ("this server's MCP endpoint is /api"):
        # that one is suggested; else the path mcpkit serves by default.
        named = self.server_message.partition(_ENDPOINT_NAMED)[2].split(" ", 1)[0]
        where = httpx.URL(self.url)
        if named.startswith("/"):
            if where.path.rstrip("/") == named.rstrip("/"):
                return f"{head} ({self.server_message})"
            return (
                f"{head}: this server's MCP endpoint is {named}: try {where.copy_with(path=named)}"
            )
        line = f"{head} ({self.server_message}): is the path right?"
        if where.path.rstrip("/") == "/mcp":
            return line
        return f"{line} mcpkit servers serve /mcp: try {where.copy_with(path='/mcp')}"
