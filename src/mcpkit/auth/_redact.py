"""Reprs of documents that hold credentials: the field names and every other value, the
credentials as `'...'`, so that a log line or a traceback's locals never carry them."""

from __future__ import annotations

import msgspec

__all__ = ["repr_hiding"]


def repr_hiding(struct: msgspec.Struct, *secrets: str) -> str:
    """`struct`'s repr with the fields named in `secrets` shown as `'...'` when set."""
    shown: list[str] = []
    for name in struct.__struct_fields__:
        value = getattr(struct, name)
        text = "'...'" if name in secrets and value is not None else repr(value)
        shown.append(f"{name}={text}")
    return f"{type(struct).__name__}({', '.join(shown)})"
