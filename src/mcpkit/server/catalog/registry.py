"""An ordered name -> spec store that reports changes, one per kind of server feature.

Adding or removing an entry after the server has started calls `on_change`, which the
server turns into a `notifications/*/list_changed` for every operating session. A registry
may also show the entries of mounted servers' registries (`mount`), rewritten by a
`MountedSource`; its own entries win a name both have. A registry may hide some of its
entries (`refilter`, for `server.disable()`): a hidden entry is neither listed nor found, for
this registry and for those that mount it, until it is shown again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, Self, TypeVar, overload

__all__ = ["ChangeCount", "CountedDict", "MountedSource", "Registry"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
logger = logging.getLogger("mcpkit.server")


class MountedSource(Protocol[T]):
    """Another server's registry, as this one shows it (mcpkit.server.mount)."""

    @property
    def registry(self) -> Registry[T]: ...

    def rewrite(self, key: str, item: T) -> tuple[str, T] | None:
        """The key and item as shown here; None for one that cannot be shown."""
        ...


class ChangeCount:
    """How many times what a server declares may have changed: one count shared by the
    registries of a catalog, moved by their changes, a mounted registry's included, and by
    what else the catalog changes (`Registry.touch`). A stamp for what is worked out from all
    of them (`Server.capabilities`): one read, where each registry's `changes` is one each."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class CountedDict(dict[K, V]):
    """A dict that calls `on_change` after each change made to it (a key set, replaced or
    taken out), however it is made: for a public dict users may change in place
    (`server.completers`), of which something is worked out once per change, not per request.
    (A change that fails part-way, an `update` from a bad iterable, is counted too: one count
    too many only has the answer worked out again.)"""

    __slots__ = ("on_change",)

    def __init__(self, on_change: Callable[[], None]) -> None:
        """Empty; `on_change` is called, with no arguments, after every change."""
        super().__init__()
        self.on_change = on_change

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.on_change()

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self.on_change()

    @overload
    def pop(self, key: K, /) -> V: ...
    @overload
    def pop(self, key: K, default: V, /) -> V: ...
    @overload
    def pop(self, key: K, default: T, /) -> V | T: ...
    def pop(self, key: K, *default: Any) -> Any:
        # In `finally`, here and below: a change that raises part-way is still announced
        # (one count too many costs a recomputation; one too few, a stale answer).
        try:
            return super().pop(key, *default)
        finally:
            self.on_change()

    def popitem(self) -> tuple[K, V]:
        try:
            return super().popitem()
        finally:
            self.on_change()

    def clear(self) -> None:
        super().clear()
        self.on_change()

    def setdefault(self, key: K, default: V, /) -> V:
        try:
            return super().setdefault(key, default)
        finally:
            self.on_change()

    def update(self, *args: Any, **kwargs: V) -> None:
        try:
            super().update(*args, **kwargs)
        finally:
            self.on_change()

    def __ior__(self, other: Any) -> Self:  # type: ignore[override,misc]  # (dict's, any operand)
        self.update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (`copy.copy`, pickle) is a plain dict of the same items: the callback is
        # the catalog's, not the copy's.
        return (dict, (dict(self),))


class Registry(Generic[T]):
    """Entries keyed by name (or URI), in registration order, then mounted ones; `counter`
    is the count of changes it shares with the other registries of its catalog."""

    def __init__(self, kind: str, counter: ChangeCount | None = None) -> None:
        """`kind` names the entries in messages ("tool", "resource"); `counter` is the
        catalog's shared count, or a fresh one for a registry on its own."""
        self.kind = kind
        self.counter = counter if counter is not None else ChangeCount()
        self._items: dict[str, T] = {}
        self._snapshot: list[T] | None = None
        self.on_change: Callable[[], None] | None = None
        self._sources: list[MountedSource[T]] = []
        # key -> (item as shown, its source, its key there); built when first needed.
        self._mounted: dict[str, tuple[T, MountedSource[T], str]] | None = None
        self._dependents: list[Registry[Any]] = []  # registries that mount this one
        self._hidden: frozenset[str] = frozenset()  # mounted keys another entry has
        #: Whether an entry is shown (`refilter`); None shows them all, at no cost.
        self._shown: Callable[[str, T], bool] | None = None
        self._unfiltered: tuple[int, Registry[T]] | None = None  # (`changes` then, the view)
        #: How many times what it shows changed (its own entries, or a mounted registry's):
        #: a stamp for what is worked out from it, cheaper to compare than its `items()`.
        self.changes = 0
        #: The entry shown under `key`, or None. While nothing is hidden or mounted (the usual
        #: server) that is its own dict's `get`: the lookup of every call runs no Python code.
        self.get: Callable[[str], T | None] = self._items.get

    def add(self, key: str, item: T, *, replace: bool = False) -> None:
        """Register `item` under `key`; ValueError for a taken key unless `replace`, so a
        second registration of one name is a mistake said aloud, not a silent swap."""
        if key in self._items and not replace:
            raise ValueError(f"a {self.kind} named {key!r} is already registered")
        self._items[key] = item
        self._changed()

    def remove(self, key: str) -> T:
        """Take out the own entry `key` and return it; KeyError saying where a mounted entry
        must be removed instead, or that there is no such entry."""
        try:
            item = self._items.pop(key)
        except KeyError:
            if key in self._mounted_entries():
                raise KeyError(
                    f"the {self.kind} {key!r} comes from a mounted server: remove it there"
                ) from None
            raise KeyError(f"no {self.kind} named {key!r} is registered") from None
        self._changed()
        return item

    def _get_shown(self, key: str) -> T | None:
        """`get` once some entries are hidden (`refilter`) or mounted (`mount`)."""
        item = self._items.get(key)
        if item is None:
            if self._sources:
                entry = self._mounted_entries().get(key)
                return None if entry is None else entry[0]
            return None
        shown = self._shown
        return item if shown is None or shown(key, item) else None

    def own(self, key: str) -> T | None:
        """This registry's own entry `key`, shown or hidden (None if it has none)."""
        return self._items.get(key)

    def own_keys(self) -> list[str]:
        """The keys of this registry's own entries, shown or hidden, in order (not those of
        the registries mounted here): what `remove` accepts."""
        return list(self._items)

    def refilter(self, shown: Callable[[str, T], bool] | None) -> None:
        """Show only the entries `shown(key, item)` is true of (all of them for None), and
        announce the change (`on_change`, and the registries that mount this one) when that
        changes which entries are shown."""
        # Compared by keys before and after: a filter that shows the same entries is no
        # list change for clients.
        before = [key for key, _ in self.entries()]
        self._shown = shown
        self._choose_get()
        self.changes += 1  # (the same keys may now be shown as other objects: mounted ones)
        self.counter.count += 1
        self._snapshot = None
        self._mounted = None
        if [key for key, _ in self.entries()] != before:
            self._changed()

    def origin(self, key: str) -> tuple[MountedSource[T], str] | None:
        """Where a mounted entry comes from (its source, its key there); None for one of this
        registry's own entries, or an unknown key."""
        if not self._sources or key in self._items:
            return None
        entry = self._mounted_entries().get(key)
        return None if entry is None else (entry[1], entry[2])

    def items(self) -> list[T]:
        """All entries, in order; the list is cached until the next change."""
        if self._snapshot is None:
            shown = self._shown
            snapshot = (
                list(self._items.values())
                if shown is None
                else [item for key, item in self._items.items() if shown(key, item)]
            )
            if self._sources:
                snapshot.extend(entry[0] for entry in self._mounted_entries().values())
            self._snapshot = snapshot
        return self._snapshot

    def entries(self) -> list[tuple[str, T]]:
        """(key, item) of every entry shown, own ones first."""
        shown = self._shown
        pairs = [
            (key, item) for key, item in self._items.items() if shown is None or shown(key, item)
        ]
        pairs.extend((key, entry[0]) for key, entry in self._mounted_entries().items())
        return pairs

    def mount(self, source: MountedSource[T]) -> None:
        """Show `source`'s entries here from now on, and follow its changes."""
        self._sources.append(source)
        # The source's registry tells this one of each change from now on (`_changed`).
        source.registry._dependents.append(self)
        self._choose_get()
        self._changed()

    def touch(self) -> None:
        """Count a change of what is worked out from this registry's catalog though no entry
        changed (an extension declared), here and in the catalogs that mount it."""
        self.counter.count += 1
        for dependent in self._dependents:
            dependent.touch()

    def sources_changed(self) -> None:
        """What a mounted source shows changed though its registry did not (a transform)."""
        self._changed()

    def __contains__(self, key: object) -> bool:
        # Whether `key` is shown: a hidden own entry is not here, as `get` would say.
        if key in self._items:
            shown = self._shown
            return shown is None or (isinstance(key, str) and shown(key, self._items[key]))
        return bool(self._sources) and key in self._mounted_entries()

    def __iter__(self) -> Iterator[T]:
        # Over the cached snapshot: registering while iterating cannot break the loop.
        return iter(self.items())

    def __len__(self) -> int:
        """The entries registered here and in the registries mounted here, shown or hidden (a
        mounted one that another hides counts too): a server declares the capability of what
        it has, so that showing some later is a list change its clients can hear of."""
        return len(self._items) + sum(len(source.registry) for source in self._sources)

    def _choose_get(self) -> None:
        """Point `get` at the plain dict lookup while nothing is hidden or mounted, else
        at `_get_shown`; called whenever either changes."""
        plain = self._shown is None and not self._sources
        self.get = self._items.get if plain else self._get_shown

    def _mounted_entries(self) -> dict[str, tuple[T, MountedSource[T], str]]:
        """The entries of the mounted sources as shown here (after each source's rewrite
        and this registry's filter), by their key here; rebuilt after any change."""
        mounted = self._mounted
        if mounted is None:
            mounted = {}
            hidden: set[str] = set()
            for source in self._sources:
                for key, item in source.registry.entries():
                    shown = source.rewrite(key, item)
                    if shown is None or (
                        self._shown is not None and not self._shown(shown[0], shown[1])
                    ):
                        continue
                    if shown[0] in self._items or shown[0] in mounted:
                        # docs/server.md, "Composing servers": the parent's own (or the
                        # first mounted) entry wins a name that collides after mounting.
                        hidden.add(shown[0])
                        continue
                    mounted[shown[0]] = (shown[1], source, key)
            for key in sorted(hidden - self._hidden):  # once, not at every rebuild
                logger.warning("mounted %s %r is hidden by another", self.kind, key)
            self._hidden = frozenset(hidden)
            self._mounted = mounted
        return mounted

    def unfiltered(self) -> Registry[T]:
        """This registry without its filter (`refilter`): every entry, those the server's
        rules hide too, found and routed as any other. What a session whose own rules show
        again what its server hides sees (`catalog.visibility.every_component`). Kept until the next
        change; it shares the entries and the sources, and announces nothing."""
        kept = self._unfiltered
        if kept is not None and kept[0] == self.changes:
            return kept[1]
        # A counter of its own: the view's bookkeeping must not move the catalog's count.
        view: Registry[T] = Registry(self.kind)
        view._items = self._items
        view._sources = self._sources
        view._choose_get()
        self._unfiltered = (self.changes, view)
        return view

    def _changed(self) -> None:
        """Note a change of what this registry shows: the caches go, the counts move, and
        the listener and every registry mounting this one hear of it."""
        self.changes += 1
        self.counter.count += 1
        self._snapshot = None
        self._mounted = None
        if self.on_change is not None:
            self.on_change()
        for dependent in self._dependents:  # a mounted server's change is its parent's too
            dependent._changed()
