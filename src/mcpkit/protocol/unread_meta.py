"""Request params whose `_meta` is decoded only when something reads it (2026-07-28).

A 2026-07-28 request carries its terms in `_meta` (`modern`), and a client sends the same
`_meta` with most of its requests: the terms cache finds them from its bytes, undecoded. Yet
the params' own decode built a dict of it on every request, which most requests never read:
no handler or middleware asks for `ctx.meta`, and the session and the header check take what
they need from the terms.

So a request served under the terms its `_meta` says, where that `_meta` names no progress
token, has its params decoded into the params type's twin: the session's `_serve_request` is
handed those types (`unread_types`) instead of the types themselves, and decodes as ever. A
twin is a subclass whose `_meta` field is kept as its JSON text, and whose `meta` attribute
decodes it into the dict the type declares the first time it is read (and keeps it: every
later read, and every other reader, gets that one dict, as from the type itself). Only
where the `_meta` is known to be a JSON object (one the terms were read from): the dict's
decode cannot fail, so the twin refuses exactly what the type refuses.

The twin is made only of a type that already holds raw JSON in another field (tools/call's
arguments, `msgspec.Raw`): code that reads a struct's fields in C, not by attribute
(`msgspec.to_builtins`, `msgspec.structs.asdict`), already meets raw JSON in those params, so
a `_meta` not yet read is no new kind of value to it. Python code reading `params.meta`
(or `getattr(params, "meta")`) always gets the dict, and a twin's params show (`repr`) and
compare (`==`, with the type's own too) as the type's do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

import msgspec

__all__ = ["UNREAD_TYPES", "UnreadMeta", "unread_type_of", "unread_types"]

#: The twins made: params of a type here hold their `_meta` undecoded until `meta` is read,
#: and name no progress token (the session looks for none in them).
UNREAD_TYPES: Final[set[type]] = set()
#: A params type -> its twin, or itself where it has none (`unread_type_of`).
_TWINS: Final[dict[Any, Any]] = {}
#: `id` of a `param_types` mapping -> (it, `unread_types` of it): the few a process has.
_UNREAD: Final[dict[int, tuple[Mapping[str, type], Mapping[str, type]]]] = {}
_decode_meta: Final = msgspec.json.Decoder(dict[str, Any]).decode


class UnreadMeta(Protocol):
    """Params of a twin (`UNREAD_TYPES`): their `_meta`, decoded when first read."""

    @property
    def meta(self) -> dict[str, Any]: ...


def unread_type_of(tp: Any) -> Any:
    """What params of type `tp` whose `_meta` is left unread decode into: its twin, or `tp`
    itself where it has none (see the module's doc)."""
    found = _TWINS.get(tp)
    if found is None:
        twin = _twin_of(tp)
        found = _TWINS[tp] = tp if twin is None else twin
    return found


def unread_types(param_types: Mapping[str, type]) -> Mapping[str, type]:
    """`param_types` (method -> params type) with each type that has a twin replaced by it:
    what a session decodes params into where their `_meta` is left unread. One mapping for
    each given (a server's sessions share theirs)."""
    held = _UNREAD.get(id(param_types))
    if held is None or held[0] is not param_types:
        held = (param_types, {m: unread_type_of(tp) for m, tp in param_types.items()})
        _UNREAD[id(param_types)] = held
    return held[1]


def _twinned(tp: Any) -> bool:
    """Whether `tp` gets a twin: a struct whose `meta` is its `_meta`, a required dict, and
    with a field of raw JSON."""
    if not isinstance(tp, type) or not issubclass(tp, msgspec.Struct):
        return False
    fields = msgspec.structs.fields(tp)
    meta = next((f for f in fields if f.name == "meta"), None)
    return (
        meta is not None
        and meta.encode_name == "_meta"
        and meta.type == dict[str, Any]
        and meta.default is msgspec.NODEFAULT
        and meta.default_factory is msgspec.NODEFAULT
        and any(f.type is msgspec.Raw for f in fields)
    )


# fast path: mirrors each params type it is made of (docs/performance.md, fast paths)
def _twin_of(tp: Any) -> type | None:
    """`tp` with its `meta` (`_meta`) kept as JSON text until read; None when `tp` is no
    struct whose `_meta` is a required dict (2026-07-28's requests all carry one: a twin has
    no default to keep), or holds no other raw JSON (see the module's doc)."""
    if not _twinned(tp):
        return None
    # The slot the field is kept in (its descriptor, on the class that made it): read and
    # written through it, past the twin's `meta` property.
    slot = next(k.__dict__["meta"] for k in tp.__mro__ if "meta" in k.__dict__)
    struct: type[msgspec.Struct] = tp
    names = struct.__struct_fields__

    def read(params: Any) -> Any:
        value = slot.__get__(params)
        if type(value) is msgspec.Raw:
            value = _decode_meta(value)
            slot.__set__(params, value)
        return value

    def write(params: Any, value: Any) -> None:
        slot.__set__(params, value)

    # What the struct's own methods do in C, from its slots, done on the `_meta` decoded: a
    # twin's params show and compare as the type's (equal to the type's with the same fields).
    def same(params: Any, other: object) -> Any:  # (a bool, or NotImplemented)
        if type(other) is not tp and type(other) is not twin:
            return NotImplemented
        return all(getattr(params, name) == getattr(other, name) for name in names)

    def differ(params: Any, other: object) -> Any:
        found = same(params, other)
        return found if found is NotImplemented else not found

    def shown(params: Any) -> str:
        read(params)
        return struct.__repr__(params)

    def rich(params: Any) -> Any:
        read(params)
        return struct.__rich_repr__(params)

    twin: type = msgspec.defstruct(
        tp.__name__,
        [("meta", msgspec.Raw, msgspec.field(name="_meta"))],
        bases=(tp,),
        kw_only=True,
        module=tp.__module__,
        namespace={"__eq__": same, "__ne__": differ, "__repr__": shown, "__rich_repr__": rich},
    )
    twin.__qualname__ = tp.__qualname__
    twin.__doc__ = tp.__doc__
    # (Set on the class made, past its struct fields: `meta` is read through the property,
    # the slot through `slot`.)
    setattr(twin, "meta", property(read, write, doc="The request's `_meta`, decoded when read."))  # noqa: B010
    UNREAD_TYPES.add(twin)
    return twin
