"""The access token a request presents in its `Authorization` header, and by which scheme:
`Bearer` (RFC 6750 section 2.1) or `DPoP` (RFC 9449 section 7.1), both `<scheme> <token68>`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from mcpkit.auth.server.challenge import AuthFailure

__all__ = ["Presented", "credentials"]

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
# (RFC 9449 section 7.1 gives the DPoP scheme the same token68 syntax).
_B64TOKEN: Final = re.compile(rb"[A-Za-z0-9\-._~+/]+=*")
_SCHEMES: Final[dict[bytes, Literal["bearer", "dpop"]]] = {b"bearer": "bearer", b"dpop": "dpop"}


@dataclass(frozen=True, slots=True)
class Presented:
    """A token as a request presented it: its `scheme` (lower case) and the `token`."""

    scheme: Literal["bearer", "dpop"]
    token: str


def credentials(
    values: Sequence[bytes], *, max_length: int, needed: tuple[str, ...]
) -> Presented | AuthFailure:
    """The token of the `Authorization` header values `values`, or the refusal to send: 401
    without a token (or with another scheme: for this resource, no token at all), 400 for
    a malformed header. `needed` are the scopes a 401 asks for."""
    if not values:
        return AuthFailure(401, None, "send Authorization: Bearer <token>", needed)
    if len(values) > 1:
        return AuthFailure(400, "invalid_request", "send one Authorization header")
    scheme, _, rest = values[0].strip(b" \t").partition(b" ")
    kind = _SCHEMES.get(scheme.lower())
    if kind is None:
        return AuthFailure(401, None, "send Authorization: Bearer <token>", needed)
    token = rest.strip(b" \t")
    if len(token) > max_length:
        return AuthFailure(
            401, "invalid_token", f"the token is over {max_length} bytes", needed, about=kind
        )
    if not _B64TOKEN.fullmatch(token):
        return AuthFailure(
            400,
            "invalid_request",
            f"the Authorization header is malformed: {scheme.decode('latin-1')} <token>",
        )
    return Presented(kind, token.decode("ascii"))
