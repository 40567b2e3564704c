"""Results as an older revision knew them.

mcpkit builds every result with the types of the newest 2025-era revision (`mcpkit.types`);
a client that negotiated an older one gets the result re-shaped by that revision's generated
types, so fields it never heard of are left out rather than sent for it to trip on.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import msgspec

__all__ = ["shape_for_revision"]


@functools.cache
def _revision_module(revision: str) -> Any:
    return importlib.import_module(f"mcpkit.types._gen_{revision.replace('-', '_')}")


def shape_for_revision(result: Any, revision: str) -> Any:
    """A result as the older `revision` knew it: fields it did not have are left out (a
    2024-11-05 client gets no `structuredContent`, no `title`, no `icons`). A result that
    uses a shape the revision cannot express at all (a content type it lacks) goes as it is,
    which such clients ignore or refuse as they would any peer's extension."""
    if not isinstance(result, msgspec.Struct):
        return result
    old = getattr(_revision_module(revision), type(result).__name__, None)
    if old is None or old is type(result):
        return result
    try:
        return msgspec.convert(msgspec.to_builtins(result), old)
    except (msgspec.ValidationError, TypeError):
        return result
