"""mcpkit's own `_meta` entries that both ends read: the server's state of a caller without a
session or a token is named by the key its client sends (docs/server.md, "State")."""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_STATE_KEY_CHARS", "MIN_STATE_KEY_CHARS", "STATE_KEY_META", "check_state_key"]

#: The `_meta` entry of a 2026-07-28 request that names its caller's state, without auth.
STATE_KEY_META: Final = "io.mcpkit/stateKey"
#: The shortest such key: 32 random base64url characters are 192 bits (`token_urlsafe(32)`
#: gives 43).
MIN_STATE_KEY_CHARS: Final = 32
MAX_STATE_KEY_CHARS: Final = 256


def check_state_key(key: object) -> str | None:
    """What is wrong with `key` as a state key (None: nothing): anyone who sends the same key
    reaches the same state, so it must be long and random."""
    if isinstance(key, str) and MIN_STATE_KEY_CHARS <= len(key) <= MAX_STATE_KEY_CHARS:
        return None
    given = f"{len(key)}" if isinstance(key, str) else f"the {type(key).__name__} {key!r:.40}"
    return (
        f"a state key must be a string of {MIN_STATE_KEY_CHARS} to {MAX_STATE_KEY_CHARS} "
        f"characters, not {given}: anyone who knows it reaches its state, so it must be long "
        "and random (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    )
