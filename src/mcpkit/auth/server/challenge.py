"""The `WWW-Authenticate: Bearer ...` challenges a protected resource sends with 401 and 403
(RFC 6750 section 3, RFC 9728 section 5.1; spec: basic/authorization, "Error Handling"),
quoted so that nothing a verifier or a peer wrote can add a header or a parameter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["MAX_DESCRIPTION", "bearer_challenge", "check_scope_token", "clean_description"]

#: Characters of an `error_description` at most: it is for people, and goes in a header.
MAX_DESCRIPTION: Final = 200

# RFC 6750 section 3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), error_description
# characters %x20-21 / %x23-5B / %x5D-7E: visible ASCII without '"' and '\', so a quoted
# value never needs escaping and can never end early.
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_NOT_DESCRIPTION: Final = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]+")
# A URI reference (RFC 3986) has no space, '"', '\' or control character either.
_NOT_URI: Final = re.compile(r"[^\x21\x23-\x5b\x5d-\x7e]")


def check_scope_token(scope: str) -> str:
    """`scope` if it is one RFC 6750 scope token, else ValueError saying what to change."""
    if not isinstance(scope, str) or not _SCOPE_TOKEN.fullmatch(scope):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(
            f"scope {scope!r} is not one scope token: use visible ASCII without spaces, '\"' "
            "or '\\' (RFC 6750 section 3), and give several scopes as a list"
        )
    return scope


def clean_description(text: str) -> str:
    """`text` as an error_description may carry it: disallowed characters (quotes,
    backslashes, line breaks, non-ASCII) become '?', and it is cut to MAX_DESCRIPTION."""
    cleaned = _NOT_DESCRIPTION.sub("?", text)
    if len(cleaned) > MAX_DESCRIPTION:
        cleaned = cleaned[: MAX_DESCRIPTION - 3] + "..."
    return cleaned


def bearer_challenge(
    *,
    resource_metadata: str | None = None,
    scopes: Iterable[str] = (),
    error: str | None = None,
    description: str | None = None,
) -> str:
    """A `WWW-Authenticate` value: `Bearer` with the parameters given.

    Without `error` it says only that a token is needed (RFC 6750 section 3.1: no error code
    for a request that carried no token); `resource_metadata` lets the client find the
    authorization server (RFC 9728 section 5.1), `scopes` what to ask for.
    """
    params: list[str] = []
    if error is not None:
        params.append(f'error="{_NOT_URI.sub("", error)}"')
    if description:
        params.append(f'error_description="{clean_description(description)}"')
    wanted = [scope for scope in scopes if _SCOPE_TOKEN.fullmatch(scope)]
    if wanted:
        params.append(f'scope="{" ".join(wanted)}"')
    if resource_metadata is not None:
        params.append(f'resource_metadata="{_quoted_uri(resource_metadata)}"')
    return "Bearer " + ", ".join(params) if params else "Bearer"


def _quoted_uri(uri: str) -> str:
    """`uri` with anything a URI may not hold percent-encoded (a derived URI holds a Host
    header, checked already: this is the last guard)."""
    return _NOT_URI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), uri)
