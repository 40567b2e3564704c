"""What a proxy keeps from its upstream: the `_meta` entries that are its caller's secrets
(the per-caller state key, `mcpkit.server.state.caller`), never passed on, as tokens are not."""

from __future__ import annotations

from typing import Any, Final, cast

import msgspec

from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.server.state.caller import STATE_KEY_META

__all__ = ["CALLER_SECRET_META", "without_caller_secrets"]

#: `_meta` entries that name or prove who the caller is to this server: whoever receives one
#: reaches the caller's state here, so a third-party upstream must never see it.
CALLER_SECRET_META: Final = frozenset({STATE_KEY_META})


def without_caller_secrets(params: Any) -> Any:
    """`params` (a decoded request's params, a struct or a dict) without CALLER_SECRET_META in
    its `_meta` (an emptied `_meta` goes too); the same object when it has none."""
    if isinstance(params, dict):
        fields = cast("dict[str, Any]", params)
        kept = _kept(fields.get("_meta"))
        if kept is None:
            return fields
        stripped = {k: v for k, v in fields.items() if k != "_meta"}
        if kept:
            stripped["_meta"] = kept
        return stripped
    # A request's params struct (the spec's `_meta` is its `meta` field).
    if isinstance(params, msgspec.Struct) and "meta" in params.__struct_fields__:
        # (Read as an attribute, not from its slot (`asdict`): params decoded by a server's
        # 2026-07-28 reads hold their `_meta` undecoded until it is, `unread_meta`.)
        kept = _kept(meta_of(params))
        if kept is not None:
            return msgspec.structs.replace(params, meta=kept or None)
    return params


def _kept(meta: Any) -> dict[str, Any] | None:
    """`meta` without the secrets, or None when it holds none (nothing to change)."""
    if not isinstance(meta, dict):
        return None
    found = cast("dict[str, Any]", meta)
    if CALLER_SECRET_META.isdisjoint(found):
        return None
    return {k: v for k, v in found.items() if k not in CALLER_SECRET_META}
