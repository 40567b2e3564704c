"""Tool names every provider accepts, mapped reversibly to and from the server's names."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = ["ToolNames"]

# The strictest of the providers' rules, so one name serves every API: Anthropic and OpenAI
# take `^[a-zA-Z0-9_-]{1,64}$`, Gemini also wants a letter or underscore first.
_VALID = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]{0,63}")
_INVALID_CHAR = re.compile(r"[^a-zA-Z0-9_-]")
MAX_LENGTH = 64


def _suffix(name: str) -> str:
    return "_" + hashlib.sha256(name.encode()).hexdigest()[:8]


class ToolNames:
    """The server's tool names and the names given to a model, one to one.

    A name already valid is kept; any other has its invalid characters replaced by `_`, an
    `_` put first when it starts with a digit or `-`, and is cut to 64 characters; when that
    is not unique, a short hash of the server's name tells the two apart."""

    def __init__(self, names: Iterable[str]) -> None:
        self._to_api: dict[str, str] = {}
        self._to_mcp: dict[str, str] = {}
        names = list(dict.fromkeys(names))
        # valid names first: they keep their spelling, the rewritten ones make way
        for name in sorted(names, key=lambda n: _VALID.fullmatch(n) is None):
            self._add(name)

    def _add(self, name: str) -> None:
        api = name if _VALID.fullmatch(name) else self._rewritten(name)
        rewritten, n = api, 0
        # A name the server gave may be the very one a hash would make (a hostile server can
        # compute it): count on until it is free, so no model's name ever means two tools.
        while api in self._to_mcp:
            suffix = _suffix(name if n == 0 else f"{name}\x00{n}")
            api = rewritten[: MAX_LENGTH - len(suffix)] + suffix
            n += 1
        self._to_api[name] = api
        self._to_mcp[api] = name

    @staticmethod
    def _rewritten(name: str) -> str:
        api = _INVALID_CHAR.sub("_", name) or "_"
        if not (api[0].isalpha() or api[0] == "_"):
            api = "_" + api
        if len(api) > MAX_LENGTH:
            suffix = _suffix(name)
            api = api[: MAX_LENGTH - len(suffix)] + suffix
        return api

    def to_api(self, name: str) -> str:
        """The model's name for the server's tool `name` (KeyError if it has none)."""
        return self._to_api[name]

    def to_mcp(self, api_name: str) -> str | None:
        """The server's name for a name the model used; None for a name it was never given."""
        return self._to_mcp.get(api_name)

    def __len__(self) -> int:
        return len(self._to_api)
