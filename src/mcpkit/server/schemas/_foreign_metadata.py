"""What pydantic's and annotated_types' objects on a parameter hold, read without importing
either library: whether the user's program loaded one, pydantic's FieldInfo class and its
marker for "no default", whether an `Annotated` extra is theirs, a constraint object's options,
a Field's default, wire alias and default factory. Apart from `_fields`, which translates what
these read into `msgspec.Meta`, because they are the only places that know those libraries'
shapes: a new release that moves a name is fixed here.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable
from typing import Any, Final, cast

__all__ = [
    "field_info_type",
    "has_default",
    "is_foreign",
    "is_grouped",
    "loaded",
    "options_of",
    "pydantic_undefined",
    "takes_arguments",
    "unhonoured_option",
    "wire_alias",
]

# FieldInfo attributes honoured by `_fields`; every other public one must keep Field()'s value.
_HONOURED: Final = frozenset(
    "annotation default default_factory alias alias_priority validation_alias "
    "serialization_alias title description examples json_schema_extra deprecated "
    "metadata".split()
)


def loaded(name: str) -> Any:
    """A module if the user's program loaded it; never imports one (see the module docstring)."""
    return sys.modules.get(name)


def field_info_type() -> type | None:
    """pydantic's FieldInfo class, when pydantic is loaded."""
    found = getattr(loaded("pydantic.fields"), "FieldInfo", None)
    return found if isinstance(found, type) else None


def is_foreign(obj: object) -> bool:
    """Whether an Annotated extra is pydantic's or annotated_types', to translate or refuse."""
    return type(obj).__module__.split(".")[0] in ("pydantic", "annotated_types", "pydantic_core")


def is_grouped(obj: object) -> bool:
    """An annotated_types group (`Interval`, `Len`): its parts are read one by one."""
    grouped = getattr(loaded("annotated_types"), "GroupedMetadata", None)
    return isinstance(grouped, type) and isinstance(obj, grouped)


def options_of(item: object) -> dict[str, Any] | None:
    """A constraint object's options: a dataclass's fields (annotated_types), else the
    attributes set (pydantic's general metadata, where None is an option left unset)."""
    if dataclasses.is_dataclass(item):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    try:
        return {k: v for k, v in vars(item).items() if v is not None}
    except TypeError:  # no attributes to read: not a constraint
        return None


def pydantic_undefined() -> object:
    """pydantic's marker for "no default". Read, never imported: a FieldInfo to compare it
    with exists only where pydantic, and with it pydantic_core, is loaded already."""
    return getattr(loaded("pydantic_core"), "PydanticUndefined", None)


def has_default(info: Any) -> bool:
    """Whether the Field gives a default; `Field(...)` (Ellipsis) means required."""
    default = info.default
    return info.default_factory is not None or (
        default is not pydantic_undefined() and default is not Ellipsis
    )


def wire_alias(info: Any) -> object:
    """The alias arguments arrive under: pydantic validates by `validation_alias` first."""
    return info.validation_alias if info.validation_alias is not None else info.alias


def takes_arguments(factory: Callable[..., Any]) -> bool:
    """Whether a default_factory wants pydantic's validated data (there is none here)."""
    # A required positional parameter is how pydantic tells a factory that wants the data.
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: list, dict
        return False
    return any(
        p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in parameters
    )


def unhonoured_option(info: Any) -> str | None:
    """The first option set on the Field `info` that `_fields` does not honour, or None.
    Compared with a blank Field() rather than listed: an option a later pydantic adds is
    refused too, until someone decides what it means for an argument."""
    blank = loaded("pydantic.fields").Field()  # what Field() leaves each option at
    slots: object = getattr(info.__class__, "__slots__", ())
    for slot in cast("tuple[str, ...]", slots):
        if slot.startswith("_") or slot in _HONOURED:
            continue
        if getattr(info, slot, None) != getattr(blank, slot, None):
            return slot
    return None
