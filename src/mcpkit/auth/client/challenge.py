"""Reading a resource server's `WWW-Authenticate` header (RFC 9110 section 11.6.1, RFC 6750
section 3, RFC 9728 section 5.1): which scheme, `resource_metadata`, `scope`, `error`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Challenge", "bearer_challenge", "parse_challenges"]

#: Characters of a header read at most: a challenge is a few hundred; more is hostile.
HEADER_LIMIT: Final = 8192

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SCHEME = re.compile(rf"\s*({_TOKEN})")
_PARAM = re.compile(rf"\s*({_TOKEN})\s*=\s*({_TOKEN}|{_QUOTED})\s*(,)?")
_TOKEN68 = re.compile(r"\s*([A-Za-z0-9\-._~+/]+=*)\s*(?:,|$)")
_UNQUOTE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme (lower case) and its parameters (names lower case)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def resource_metadata(self) -> str | None:
        return self.params.get("resource_metadata") or None

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.params.get("scope", "").split())

    @property
    def error(self) -> str | None:
        return self.params.get("error") or None


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in `header`, in order; what cannot be parsed ends the list (a broken
    header yields what came before the damage, never an exception)."""
    text = header[:HEADER_LIMIT]
    found: list[Challenge] = []
    pos = 0
    while pos < len(text):
        scheme = _SCHEME.match(text, pos)
        if scheme is None:
            break
        challenge = Challenge(scheme.group(1).lower())
        found.append(challenge)
        pos = _read_params(text, scheme.end(), challenge.params)
        if pos < 0:
            break
    return found


def _read_params(text: str, pos: int, params: dict[str, str]) -> int:
    """Read `name=value` pairs into `params` from `pos`; the position of the next challenge,
    or -1 when the rest cannot be read."""
    token68 = _TOKEN68.match(text, pos)
    if token68 is not None and _PARAM.match(text, pos) is None:
        return token68.end()  # `Basic abc==`: a token68, not parameters
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t,":
            pos += 1
        param = _PARAM.match(text, pos)
        if param is None:
            return pos if _SCHEME.match(text, pos) else -1
        name, value = param.group(1).lower(), param.group(2)
        if value.startswith('"'):
            value = _UNQUOTE.sub(r"\1", value[1:-1])
        params.setdefault(name, value)  # RFC 9110: each name at most once; keep the first
        pos = param.end()
    return pos


def bearer_challenge(headers: list[str]) -> Challenge | None:
    """The Bearer challenge among the `WWW-Authenticate` header lines, if there is one."""
    for line in headers:
        for challenge in parse_challenges(line):
            if challenge.scheme == "bearer":
                return challenge
    return None
