"""`StateSeal`: the `requestState` of a multi round-trip request, sealed so a client can carry it
but never forge or reuse it (spec: basic/patterns/mrtr, "Server Requirements" 4 and 5).

A 2026-07-28 server keeps nothing between the rounds of a request: what a handler learned in
earlier rounds travels in `requestState`, which the client echoes on its retry. The client is
not to be trusted with it, so the state is a JSON payload and an HMAC-SHA256 over it with a
key only the servers know: a changed byte fails verification. The payload also binds the state
to what it is for, each checked when it comes back:

- `x`: when it expires (unix seconds; `ttl` after it was sealed);
- `b`: the request it belongs to (a digest of its method and params, its `_meta`, answers
  and state left out), so state from one call cannot resume another;
- `p`: who it was issued to (`owner_key` of the access token's issuer, subject and client),
  so one user's state is useless to another;
- `j`: a random id, which a server whose states are single-use (`Server(
  request_state_single_use=True)`, the default) accepts once, through the store's replay cache.

The payload is readable by the client but not changeable. It is signed, not encrypted: what it
holds is the client's own answers, digests of questions the client was shown, and who the
client is, so hiding it would protect nothing the client does not know; and the core server
depends on msgspec alone, where an AEAD would need `cryptography`.

Every replica of a server must share the key: `Server(request_state_key=...)`, or the
MCPKIT_REQUEST_STATE_KEY environment variable (which `--workers` sets for its workers when it
is unset); else, with a store that processes share (`sqlite:///`, `redis://`), the one kept in
the store (`agree`). Without any, each process draws its own and a retry that reaches another
process is refused, with a message that says so. To rotate the key, give a list, the new key
first: states are sealed with the first and opened with any (the variable takes them separated
by commas); drop the old one once `ttl` has passed.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.stores.random_tokens import token_bytes

__all__ = [
    "DEFAULT_STATE_TTL",
    "KEY_ENV",
    "OpenedState",
    "StateKeys",
    "StateSeal",
    "request_digest",
]

#: Seconds a requestState stays valid: long enough for a person to answer a form.
DEFAULT_STATE_TTL: Final = 900.0
KEY_ENV: Final = "MCPKIT_REQUEST_STATE_KEY"
_VERSION: Final = "s1"
_encoder: Final = msgspec.json.Encoder(order="sorted")
# Kept out of the digest that binds a state to its request: they change between rounds.
_ROUND_FIELDS: Final = frozenset({"_meta", "inputResponses", "requestState"})


def request_digest(method: str, params: Any) -> str:
    """A digest of what a request asks (its method and params, less what changes between the
    rounds of one request), which its requestState is bound to."""
    # (through JSON: params may hold raw JSON, as tools/call arguments do)
    raw: Any = msgspec.json.decode(msgspec.json.encode(params)) if params is not None else {}
    if isinstance(raw, dict):
        fields = cast("dict[str, Any]", raw)
        raw = {k: v for k, v in fields.items() if k not in _ROUND_FIELDS}
    data = _encoder.encode([method, raw])
    import hashlib  # (here, not at the top: most servers never load hashlib)

    return _b64(hashlib.sha256(data).digest()[:18])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OpenedState(NamedTuple):
    """A requestState once verified: what it holds, its id (`j`, None in a state sealed before
    states had one) and when it expires (unix seconds)."""

    content: dict[str, Any]
    id: str | None
    expires: int


#: A key, or the keys of a rotation (the first seals).
StateKeys = bytes | str | Sequence[bytes | str]


class StateSeal:
    """Seals requestState with one key and opens it with any of its keys (see the module's
    docstring)."""

    def __init__(
        self,
        key: StateKeys | None = None,
        *,
        ttl: float = DEFAULT_STATE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if key is None:
            configured = os.environ.get(KEY_ENV) or None
            if configured is not None:
                key = [part.strip() for part in configured.split(",") if part.strip()]
        #: Whether the key was given (or configured): without, another process cannot open
        #: what this one sealed, which the refusal says.
        self.shared = key is not None
        self._keys = _keys_of(key) if key is not None else [token_bytes(32)]
        if not ttl > 0:
            raise ValueError(f"the requestState ttl must be a number of seconds > 0, not {ttl!r}")
        self.ttl = ttl
        self.clock = clock

    def agree(self, key: bytes) -> None:
        """Seal with `key`, which the other processes of the deployment hold too (a store's
        `SharedSecrets`), unless a key was given or configured, which stays. Before serving:
        what was sealed with the key drawn here no longer opens."""
        if self.shared:
            return
        if len(key) < 16:
            raise ValueError("a shared requestState key must be at least 16 bytes")
        self._keys = [key]
        self.shared = True

    def _mac(self, payload: str, key: bytes) -> str:
        import hashlib  # (here, not at the top: most servers never load hashlib)
        import hmac

        mac = hmac.new(key, f"{_VERSION}.{payload}".encode("ascii"), hashlib.sha256)
        return _b64(mac.digest())

    def seal(self, binding: str, principal: str | None, content: dict[str, Any]) -> str:
        """The requestState for `content`, bound to the request digest `binding` and to
        `principal`, expiring `ttl` seconds from now."""
        payload = {
            "b": binding,
            "p": principal,
            "x": int(self.clock() + self.ttl),
            "j": _b64(token_bytes(12)),
            "c": content,
        }
        text = _b64(_encoder.encode(payload))
        return f"{_VERSION}.{text}.{self._mac(text, self._keys[0])}"

    def open(self, state: str, binding: str, principal: str | None) -> OpenedState:
        """`state` once verified (with any of the keys); McpError -32602 (Invalid Params) when
        it was changed, sealed with another key, expired, or issued for another request or
        user. Whether it was used before is the caller's to check (`OpenedState.id`)."""
        parts = state.split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise _refused("it is not one this server issued")
        _, text, mac = parts
        if not any(_same(mac, self._mac(text, key)) for key in self._keys):
            why = "it was altered, or sealed with another key"
            if not self.shared:
                why += (
                    " (this server has no shared request_state_key: a retry that reaches "
                    f"another process or a restarted one is refused; set {KEY_ENV}, or serve "
                    "from a store the processes share, sqlite:/// or redis://)"
                )
            raise _refused(why)
        try:
            decoded: Any = msgspec.json.decode(_unb64(text))
        except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
            raise _refused("its payload is unreadable") from exc
        if not isinstance(decoded, dict):
            raise _refused("its payload is unreadable")
        payload = cast("dict[str, Any]", decoded)
        expires = payload.get("x")
        if not isinstance(expires, int) or expires < self.clock():
            raise _refused("it expired; start the request again without it")
        if payload.get("b") != binding:
            raise _refused("it belongs to another request (a different method or params)")
        if payload.get("p") != principal:
            raise _refused("it was issued to another user")
        content: Any = payload.get("c")
        once: Any = payload.get("j")
        if not isinstance(content, dict) or not isinstance(once, str | None):
            raise _refused("its payload is unreadable")
        return OpenedState(cast("dict[str, Any]", content), once, expires)


def _keys_of(key: StateKeys) -> list[bytes]:
    """The keys as bytes, the sealing one first; ValueError for none, or one too short."""
    given = [key] if isinstance(key, bytes | str) else list(key)
    keys = [k.encode("utf-8") if isinstance(k, str) else k for k in given]
    if not keys:
        raise ValueError("request_state_key is an empty list: give at least one key")
    if any(len(k) < 16 for k in keys):
        raise ValueError("request_state_key must be at least 16 bytes (32 random ones is best)")
    return keys


def _refused(why: str) -> McpError:
    return McpError(codes.INVALID_PARAMS, f"Invalid params: requestState is refused: {why}")


def _same(a: str, b: str) -> bool:
    """`hmac.compare_digest`: a comparison whose time does not tell where they differ."""
    import hmac

    return hmac.compare_digest(a, b)
