"""URL rules of MCP authorization: the canonical resource URI (RFC 8707 section 2), origins,
and the well-known URLs of RFC 9728 section 3.1 and RFC 8414 section 3.1."""

from __future__ import annotations

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit.auth import uris

__all__ = [
    "canonical_resource",
    "is_loopback",
    "origin",
    "resource_covers",
    "require_secure",
    "well_known",
]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def canonical_resource(url: str | httpx.URL) -> str:
    """The canonical URI of the MCP server at `url`, the resource its tokens are asked for
    (`mcpkit.auth.uris.canonical_resource`, shared with the servers), without the query: the
    server names itself so, and tokens are kept apart per query by the storage key."""
    return uris.canonical_resource(str(httpx.URL(url).copy_with(query=None, fragment=None)))


def origin(url: str | httpx.URL) -> str:
    """`scheme://host[:port]` of `url`, lower case, the port left out when it is the default."""
    parsed = httpx.URL(url)
    host = parsed.host.lower()
    if ":" in host:
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme.lower()}://{host}{port}"


def resource_covers(resource: str, server_url: str) -> bool:
    """Whether a protected resource metadata document whose `resource` is `resource` may speak
    for the MCP server at `server_url` (RFC 9728 section 3.3): the same origin, and the server's
    path is that path or below it (a root document may cover `/mcp`)."""
    if origin(resource) != origin(server_url):
        return False
    prefix = httpx.URL(resource).path.rstrip("/")
    path = httpx.URL(server_url).path.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def well_known(url: str, name: str, *, path_inserted: bool = True) -> str:
    """`/.well-known/<name>` on the origin of `url`, with the path of `url` inserted after it
    (RFC 8414 section 3.1, RFC 9728 section 3.1) unless `path_inserted` is False."""
    path = httpx.URL(url).path.rstrip("/") if path_inserted else ""
    return f"{origin(url)}/.well-known/{name}{path}"


def is_loopback(url: str | httpx.URL) -> bool:
    return httpx.URL(url).host.lower() in _LOOPBACK


def require_secure(url: str, what: str) -> None:
    """Refuse a non-HTTPS `url` for `what` unless it is on the loopback interface (spec:
    basic/authorization, "Communication Security": authorization server endpoints use HTTPS;
    development servers on 127.0.0.1 are the exception a developer needs)."""
    from mcpkit.errors import AuthorizationFailed

    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed)):
        return
    raise AuthorizationFailed(
        "invalid_request",
        f"{what} {url!r} is not an https URL: authorization servers must use HTTPS "
        "(plain http is allowed on localhost only)",
    )
