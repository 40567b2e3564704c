"""The checks a provider recipe makes of the values it is given: a missing, empty, misspelt or
misplaced value is refused when the recipe is called, naming the provider and the setting,
rather than found out at the first sign-in."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mcpkit.auth._fetch import check_endpoint

__all__ = ["host", "scope_list", "text", "url"]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


def text(provider: str, setting: str, value: object) -> str:
    """A non-empty string without surrounding blanks (an unset environment variable gives "",
    a file read with its newline gives "secret\\n": both would fail only at sign-in)."""
    if not isinstance(value, str):
        raise TypeError(f"{provider}: {setting}= must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{provider}: {setting}= is empty (an unset environment variable?)")
    if value != value.strip():
        raise ValueError(f"{provider}: {setting}= has blanks or a newline around it")
    return value


def host(provider: str, setting: str, value: object, example: str) -> str:
    """A host name such as `example`, lower-cased: not a URL, no path, no port."""
    name = text(provider, setting, value).lower()
    if not _HOST.fullmatch(name):
        raise ValueError(
            f"{provider}: {setting}= is a host name such as {example!r}, "
            f"without https:// or a path: not {value!r}"
        )
    return name


def url(provider: str, setting: str, value: object) -> str:
    """An https URL (http only on this machine), without its trailing slash."""
    given = text(provider, setting, value)
    try:
        check_endpoint(given, f"{provider}: {setting}=")
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    if "?" in given or "#" in given:
        raise ValueError(f"{provider}: {setting}= has a query or fragment: {given!r}")
    return given.rstrip("/")


def scope_list(provider: str, value: Sequence[str]) -> tuple[str, ...]:
    """Scopes as a list of names: a single string would be taken letter by letter."""
    if isinstance(value, str):
        raise TypeError(f"{provider}: scopes= is a list of scopes, such as {value.split()!r}")
    scopes = tuple(value)
    for scope in scopes:
        if not scope or any(c.isspace() for c in scope):
            raise ValueError(f"{provider}: scope {scope!r} is not one scope name")
    return scopes
