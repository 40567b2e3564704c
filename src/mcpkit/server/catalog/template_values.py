"""Screening a resource template's matched values before they reach its function, so that a
read cannot name a file outside what the template means (a path traversal).

A template's values are commonly joined to a directory or passed to an API's path, so a read
of `file:///notes/{name}` with `name` = `..%2F..%2Fetc%2Fpasswd` must not reach the function.
Refused (invalid params): a NUL, a `..` path segment, an absolute path (`/x`, `\\x`, `C:\\x`)
and, for a variable whose template form cannot carry `/` unencoded (`{x}`, `{.x}`, `{;x}`,
`{/x}`), any `/` or `\\` (they can only have come percent-encoded). A form meant to carry
slashes (`{+x}`, `{#x}`, `{x*}`, `{/x*}`, `{?x}`) keeps them, never `..` or a leading one.
`allow_paths=True` on the template passes its values as matched (NUL is still refused).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.catalog.uri_template import UriTemplate

__all__ = ["Screen", "screen_for", "screen_values"]

#: Variable name -> whether its form may carry `/` (`UriTemplate.slashed_variables`).
Screen = Mapping[str, bool]

_SEPARATORS: Final = re.compile(r"[/\\]")
_ABSOLUTE: Final = re.compile(r"[/\\]|[A-Za-z]:[/\\]")  # at the start of a value


def screen_for(template: UriTemplate, allow_paths: bool) -> Screen:
    """What `screen_values` checks for `template`'s variables; with `allow_paths`, only NULs."""
    if allow_paths:
        return {}
    slashed = template.slashed_variables()
    return {name: name in slashed for name in template.variables}


def screen_values(screen: Screen, uri: str, values: Mapping[str, str]) -> None:
    """Refuse (invalid params, naming the variable) a read of `uri` whose matched `values`
    would reach outside what the template means (the module's docstring)."""
    for name, value in values.items():
        problem = _problem(value, screen.get(name))
        if problem is not None:
            raise McpError(
                codes.INVALID_PARAMS,
                f"Invalid params: {uri}: the value of {name!r} {problem}",
                {"uri": uri, "variable": name},
            )


def _problem(value: str, slashed: bool | None) -> str | None:
    if "\x00" in value:
        return "holds a NUL"
    if slashed is None:  # (allow_paths, or a variable the template does not have)
        return None
    if not slashed and _SEPARATORS.search(value):
        return "holds a path separator (an encoded '/' or a '\\'), which this form cannot carry"
    if _ABSOLUTE.match(value):
        return "is an absolute path"
    if ".." in _SEPARATORS.split(value):
        return "climbs out with a '..' path segment"
    return None
