"""What the development authorization server grants: which resource a token is for (RFC 8707,
the token's `aud`) and which scopes (RFC 6749 section 3.3)."""

from __future__ import annotations

import re
from typing import Final

from mcpkit.auth import uris
from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.devserver.settings import DevServerSettings
from mcpkit.auth.metadata import ClientInformation

__all__ = ["canonical_resource", "grant_resource", "grant_scopes", "parse_scope"]

# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,200}")
_MAX_SCOPES: Final = 64


def canonical_resource(value: str) -> str:
    """`value` as a canonical resource URI (`mcpkit.auth.uris.canonical_resource`, shared
    with the resource server and the client); refused with invalid_target when it is not an
    absolute http(s) URI without a fragment (RFC 8707 section 2)."""
    try:
        return uris.canonical_resource(value)
    except uris.NotAResourceUri as exc:
        raise Refused("invalid_target", f"resource {exc}") from None


def grant_resource(settings: DevServerSettings, requested: str | None, origin: str) -> str:
    """The resource a token will be for: `requested` when this server serves it (configured
    `resources`, or any URI on its own `origin`), else the default one."""
    if requested is None:
        if settings.resources:
            return canonical_resource(settings.resources[0])
        return canonical_resource(origin + "/mcp")
    resource = canonical_resource(requested)
    if settings.resources is not None:
        served = {canonical_resource(r) for r in settings.resources}
        if resource not in served:
            raise Refused("invalid_target", f"this server issues no tokens for {resource}")
    elif uris.origin(resource) != uris.origin(canonical_resource(origin)):
        raise Refused(
            "invalid_target",
            f"this server issues tokens for resources on {origin} only, not {resource}: "
            "list others in DevServerSettings.resources",
        )
    return resource


def parse_scope(scope: str | None) -> tuple[str, ...]:
    """The scope tokens of a `scope` parameter, in order, without duplicates."""
    if not scope:
        return ()
    tokens = scope.split(" ")
    if len(tokens) > _MAX_SCOPES or not all(_SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise Refused("invalid_scope", "scope is not space-separated scope tokens")
    return tuple(dict.fromkeys(tokens))


def grant_scopes(
    settings: DevServerSettings, requested: str | None, client: ClientInformation
) -> tuple[str, ...]:
    """The scopes granted: those requested when all are served, else the client's registered
    scope, else `default_scopes` (RFC 6749 section 3.3 lets the server pick a default)."""
    scopes = parse_scope(requested)
    if not scopes:
        scopes = parse_scope(client.scope) or settings.default_scopes
    if settings.scopes is not None:
        unknown = [s for s in scopes if s not in settings.scopes]
        if unknown:
            raise Refused("invalid_scope", f"scopes not served: {' '.join(unknown)}")
    return scopes
