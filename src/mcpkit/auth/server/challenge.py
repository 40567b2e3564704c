"""The `WWW-Authenticate` challenges a protected resource sends with 401 and 403: `Bearer`
(RFC 6750 section 3, RFC 9728 section 5.1; spec: basic/authorization, "Error Handling") and
`DPoP` (RFC 9449 section 7.1), quoted so that nothing a verifier or a peer wrote can add a
header or a parameter; and `AuthFailure`, a refusal with the headers that say it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from mcpkit.auth.metadata import OAuthErrorResponse, encode

__all__ = [
    "MAX_DESCRIPTION",
    "AuthFailure",
    "bearer_challenge",
    "check_scope_token",
    "clean_description",
    "dpop_challenge",
]

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
    params = _params(resource_metadata, scopes, error, description)
    return "Bearer " + ", ".join(params) if params else "Bearer"


def dpop_challenge(
    algs: Iterable[str],
    *,
    resource_metadata: str | None = None,
    scopes: Iterable[str] = (),
    error: str | None = None,
    description: str | None = None,
) -> str:
    """A `WWW-Authenticate` value: `DPoP` with the proof algorithms the server accepts
    (`algs`, RFC 9449 section 7.1) and the parameters `bearer_challenge` takes."""
    names = [alg for alg in algs if _SCOPE_TOKEN.fullmatch(alg)]
    params = _params(resource_metadata, scopes, error, description)
    return "DPoP " + ", ".join([*params, f'algs="{" ".join(names)}"'])


def _params(
    resource_metadata: str | None, scopes: Iterable[str], error: str | None, description: str | None
) -> list[str]:
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
    return params


def _quoted_uri(uri: str) -> str:
    """`uri` with anything a URI may not hold percent-encoded (a derived URI holds a Host
    header, checked already: this is the last guard)."""
    return _NOT_URI.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), uri)


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request's token was refused: the HTTP `status` (400 malformed, 401 no or invalid
    token or proof, 403 insufficient scope, 503 the verifier or the store could not answer),
    the OAuth `error` code (None when no token came: RFC 6750 section 3.1), a `description`
    for people, and the `scopes` a new token should have.

    `bearer` says the Bearer scheme is accepted; `dpop_algs` (when not empty) that the DPoP
    scheme is, with proofs signed with these algorithms; `about` names the scheme the error
    concerns (None: both), so each challenge says only what is true of its scheme; `nonce`
    is the server's current DPoP nonce (RFC 9449 section 9), sent in `DPoP-Nonce`."""

    status: int
    error: str | None
    description: str
    scopes: tuple[str, ...] = ()
    bearer: bool = True
    dpop_algs: tuple[str, ...] = ()
    about: Literal["bearer", "dpop"] | None = None
    nonce: str | None = None

    def challenge(self, resource_metadata: str) -> str:
        """The `WWW-Authenticate` value of the Bearer scheme for this failure."""
        error, description = self._said("bearer")
        return bearer_challenge(
            resource_metadata=resource_metadata,
            scopes=self.scopes,
            error=error,
            description=description,
        )

    def challenges(self, resource_metadata: str) -> list[str]:
        """Every `WWW-Authenticate` value to send: one per scheme the resource accepts (RFC
        9449 section 7.1), each naming the metadata (RFC 9728 section 5.1)."""
        found = [self.challenge(resource_metadata)] if self.bearer else []
        if self.dpop_algs:
            error, description = self._said("dpop")
            found.append(
                dpop_challenge(
                    self.dpop_algs,
                    resource_metadata=resource_metadata,
                    scopes=self.scopes,
                    error=error,
                    description=description,
                )
            )
        return found

    def headers(self, resource_metadata: str) -> list[tuple[bytes, bytes]]:
        """The challenges and the DPoP nonce, as ASGI response headers."""
        found = [(b"www-authenticate", c.encode()) for c in self.challenges(resource_metadata)]
        if self.nonce is not None:
            found.append((b"dpop-nonce", self.nonce.encode()))
        return found

    def body(self) -> bytes:
        """An RFC 6749 section 5.2 error body (the header is what clients act on)."""
        error = self.error or "invalid_token"
        return encode(OAuthErrorResponse(error=error, error_description=self.description))

    def _said(self, scheme: str) -> tuple[str | None, str | None]:
        """The error and description the challenge of `scheme` carries: none for a request
        without a token (RFC 6750 section 3.1), none about the other scheme."""
        if self.error is None or self.about not in (None, scheme):
            return None, None
        return self.error, self.description
