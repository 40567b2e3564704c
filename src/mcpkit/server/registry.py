"""An ordered name -> spec store that reports changes, one per kind of server feature.

Adding or removing an entry after the server has started calls `on_change`, which the
server turns into a `notifications/*/list_changed` for every operating session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries keyed by name (or URI), in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._snapshot: list[T] | None = None
        self.on_change: Callable[[], None] | None = None

    def add(self, key: str, item: T, *, replace: bool = False) -> None:
        if key in self._items and not replace:
            raise ValueError(f"a {self.kind} named {key!r} is already registered")
        self._items[key] = item
        self._changed()

    def remove(self, key: str) -> T:
        try:
            item = self._items.pop(key)
        except KeyError:
            raise KeyError(f"no {self.kind} named {key!r} is registered") from None
        self._changed()
        return item

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def items(self) -> list[T]:
        """All entries, in order; the list is cached until the next change."""
        if self._snapshot is None:
            self._snapshot = list(self._items.values())
        return self._snapshot

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())

    def __len__(self) -> int:
        return len(self._items)

    def _changed(self) -> None:
        self._snapshot = None
        if self.on_change is not None:
            self.on_change()
