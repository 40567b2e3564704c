"""Classes in a hint whose fields carry pydantic's `Field` or annotated_types constraints,
mirrored as classes msgspec honours them in.

msgspec reads a dataclass, `msgspec.Struct` or TypedDict itself and skips metadata it does
not know, so `n: Annotated[int, Field(gt=0)]` in a dataclass would be an unchecked int. Such
a class is mirrored once: a Struct (a TypedDict for a TypedDict) of the same name, module
and docstring, its fields translated as parameters are (`msgspec.Meta`, defaults, aliases)
and refused where they cannot be. A mirrored value is built back into the user's class
after validation (`rebuild`), by its attributes. A pydantic dataclass becomes a stand-in
that pydantic validates and describes, as a pydantic model is.

Refused with TypeError, naming the class and the field, when the tool is registered: such
metadata in an attrs class or a NamedTuple (msgspec reads them, but no mirror is made of
them), in a recursive class, or in a generic one (`_fields`); a TypedDict key given an
alias or a default; a field given a default twice. Each would otherwise be accepted and
silently not checked.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
import weakref
from collections.abc import Callable
from typing import Any, Final, cast

import msgspec
import msgspec.structs

from mcpkit.server.schemas._hints import pydantic_stand_in

__all__ = ["Mirrored", "has_fields", "mirror_class"]

# "No default" in each vocabulary: a parameter's (`_fields` speaks it) and a Struct field's.
_EMPTY: Final = inspect.Parameter.empty
_NOTHING: Final[Any] = msgspec.NODEFAULT


@dataclasses.dataclass(frozen=True, slots=True)
class Mirrored:
    """What msgspec is given for a class: the class itself or its mirror. `rebuild`: its
    values must be built back into the user's classes; `renamed`: the first field whose
    alias renames it on the wire (`Q.n`), which no return type can honour."""

    hint: Any
    rebuild: bool = False
    renamed: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    """One field of a mirror: its attribute name, its name on the wire, its translated
    hint, its default or factory, and whether a value must be given."""

    name: str
    wire: str
    hint: Any
    default: Any
    factory: Callable[[], Any] | None
    required: bool


ReadField = Callable[[str, str, Any, Any], Any]  # label, name, hint, default -> ParameterSpec
#: A declared field: its name, its name on the wire, hint, default (or `_EMPTY`), factory.
_Declared = tuple[str, str, Any, Any, Callable[[], Any] | None]

_make_typed_dict = cast("Callable[[str, dict[str, Any]], type]", typing.TypedDict)
#: Each class's mirror, per `coerce` (a mirror holds the translated hints, which differ
#: with it). Weak: a user's class that goes away takes its mirrors with it.
_MIRRORS: Final[weakref.WeakKeyDictionary[type, dict[bool, Mirrored]]] = weakref.WeakKeyDictionary()
_SAME: Final = Mirrored(None)  # in _MIRRORS: the class needs no mirror
# The classes being mirrored now, outermost first: a class met again inside itself is
# recursive, and is assumed to need no mirror (`_recursive` notes the guess, to check).
_building: set[tuple[type, bool]] = set()
_recursive: set[tuple[type, bool]] = set()
_added: list[tuple[type, bool]] = []  # mirrors made during the outermost call


def mirror_class(cls: type, coerce: bool, read: ReadField) -> Mirrored:
    """`cls`, or what stands for it, with its fields read by `read` (`_fields`' reader).

    A class is mirrored once per `coerce` and kept (`_MIRRORS`), so every tool that names
    it shares one mirror and one set of `$defs`. A recursive class is assumed to need no
    mirror while its own fields are read; if it turns out to need one, it is refused, and
    every mirror made on that assumption during this call is forgotten with it.
    """
    # A pydantic dataclass or model is validated by pydantic itself, Field and all.
    stand_in = pydantic_stand_in(cls)
    if stand_in is not None:
        return Mirrored(stand_in)
    # A plain class, an int or a str: msgspec has no fields of it to skip.
    if _kind(cls) is None:
        return Mirrored(cls)
    cached = _MIRRORS.get(cls, {}).get(coerce)
    # `_SAME` stands for the class itself, which a weak-keyed cache cannot hold as a value.
    if cached is not None:
        return Mirrored(cls) if cached is _SAME else cached
    key = (cls, coerce)
    if key in _building:  # assumed unchanged; refused below if it is not
        _recursive.add(key)
        return Mirrored(cls)
    # The outermost call owns the bookkeeping: it clears what the nested calls noted.
    outermost = not _building
    mark = len(_added)
    _building.add(key)
    try:
        found = _mirror(cls, coerce, read)
        # Not the class itself as its own value, which would keep it alive.
        _MIRRORS.setdefault(cls, {})[coerce] = _SAME if found.hint is cls else found
        _added.append(key)
    except BaseException:  # (an interrupt too: no half-made mirror may stay cached)
        for done in _added[mark:]:  # they may rest on a guess the failure disproved
            _MIRRORS.get(done[0], {}).pop(done[1], None)
        del _added[mark:]
        raise
    finally:
        _building.discard(key)
        if outermost:
            _recursive.clear()
            _added.clear()
    return found


def has_fields(cls: object) -> bool:
    """Whether `cls` is a class whose fields msgspec reads (dataclass, Struct, TypedDict,
    attrs class, NamedTuple): one whose fields may hold metadata to translate."""
    return _kind(cls) is not None


def _kind(cls: object) -> str | None:
    """Which of msgspec's field-holding kinds `cls` is, or None for another class."""
    if not isinstance(cls, type):
        return None
    cls = cast("type[Any]", cls)
    if issubclass(cls, msgspec.Struct):
        return "struct"
    if typing.is_typeddict(cls):
        return "typeddict"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    # A NamedTuple has no base class to test for: a tuple subclass with `_fields` is one.
    if hasattr(cls, "__attrs_attrs__") or (tuple in cls.__mro__ and hasattr(cls, "_fields")):
        return "unmirrored"  # attrs classes and NamedTuples, which msgspec reads too
    return None


def _mirror(cls: type, coerce: bool, read: ReadField) -> Mirrored:
    """Read every field of `cls` and make a mirror if any of them needed translating;
    TypeError where a mirror is needed but cannot be made (see the messages)."""
    kind = _kind(cls)
    # `include_extras`: the Annotated metadata is exactly what is looked for.
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except (NameError, TypeError):  # msgspec says what it cannot resolve
        return Mirrored(cls)
    fields: list[_Field] = []
    changed = rebuild = False
    renamed: str | None = None
    for name, wire, hint, default, factory in _declared(cls, kind, hints):
        label = f"field {cls.__name__}.{name}"
        spec = read(label, name, hint, default)
        # `field(default_factory=...)` and a Field factory both: which one wins is a guess.
        if spec.factory is not None and factory is not None:
            raise TypeError(f"{label}: give its default once, in Field(...) or in field(...)")
        aliased = spec.wire_name != name
        # A mirror is needed when a hint was translated, a default comes from a Field, or
        # an alias renames a field: in each, msgspec reading `cls` itself would differ.
        changed = changed or spec.hint is not hint or spec.filled or aliased
        rebuild = rebuild or spec.rebuild
        renamed = renamed or spec.renamed or (f"{cls.__name__}.{name}" if aliased else None)
        # A Struct's own rename (`rename=`, `name=`) stays unless an alias replaces it.
        fields.append(
            _Field(
                name,
                spec.wire_name if aliased else wire,
                spec.hint,
                spec.default,
                spec.factory or factory,
                spec.required and factory is None,
            )
        )
    if not changed:
        return Mirrored(cls)
    # Checked only now that a mirror is needed: these kinds are fine as long as their
    # fields need no translation.
    if kind == "unmirrored":
        raise TypeError(
            f"class {cls.__name__}: mcpkit reads pydantic Field and annotated_types metadata "
            "in the fields of dataclasses, msgspec Structs and TypedDicts; make it one of "
            "those, or write its constraints with msgspec.Meta"
        )
    if (cls, coerce) in _recursive:
        raise TypeError(
            f"class {cls.__name__}: a recursive class cannot hold pydantic Field or "
            "annotated_types metadata; write its constraints with msgspec.Meta instead"
        )
    # A TypedDict's value is a dict either way: only classes inside it need rebuilding.
    # A Struct mirror always does, back into the user's dataclass or Struct.
    if kind == "typeddict":
        return Mirrored(_typed_dict(cls, fields), rebuild, renamed)
    return Mirrored(_struct(cls, fields), True, renamed)


def _declared(cls: type, kind: str | None, hints: dict[str, Any]) -> list[_Declared]:
    """The fields of `cls`, as msgspec reads them."""
    # Each kind keeps its fields its own way; all come out as (name, wire name, hint,
    # default, factory), in declaration order, which the schema keeps.
    if kind == "dataclass":
        return [
            (
                f.name,
                f.name,
                hints.get(f.name, Any),
                _EMPTY if f.default is dataclasses.MISSING else f.default,
                None if f.default_factory is dataclasses.MISSING else f.default_factory,
            )
            for f in dataclasses.fields(cls)
        ]
    if kind == "struct":
        return [
            (
                f.name,
                f.encode_name,
                hints.get(f.name, Any),
                _EMPTY if f.default is _NOTHING else f.default,
                None if f.default_factory is _NOTHING else f.default_factory,
            )
            for f in msgspec.structs.fields(cls)
        ]
    out: list[_Declared] = []  # a TypedDict's keys; the hints of the others, to refuse
    for name, hint in hints.items():
        origin = typing.get_origin(hint)
        # Unwrapped to read the metadata inside; `_typed_dict` wraps each key again from
        # the class's own `__optional_keys__`, which `total=False` also sets.
        if origin is typing.Required or origin is typing.NotRequired:
            hint = typing.get_args(hint)[0]
        out.append((name, name, hint, _EMPTY, None))  # TypedDict: required by _typed_dict
    return out


def _typed_dict(cls: type, fields: list[_Field]) -> type:
    """A TypedDict mirror of `cls`, its keys as required or not as `cls` had them. A key
    has no alias and no default in a TypedDict, so a Field giving one is refused."""
    annotations: dict[str, Any] = {}
    optional: frozenset[str] = getattr(cls, "__optional_keys__", frozenset())
    for f in fields:
        label = f"field {cls.__name__}.{f.name}"
        if f.wire != f.name:
            raise TypeError(f"{label}: a TypedDict key is its name; rename the key, not alias")
        if not f.required:
            raise TypeError(
                f"{label}: a TypedDict key has no default; make it NotRequired and let "
                "the code that reads it give the default"
            )
        # Every key wrapped explicitly, so the mirror needs no `total=` of its own.
        wrap = typing.NotRequired if f.name in optional else typing.Required
        annotations[f.name] = wrap[f.hint]
    # The functional form: it takes the keys from a dict, whatever their names (`class`).
    made = _make_typed_dict(cls.__name__, annotations)
    _named_like(made, cls)
    return made


def _struct(cls: type, fields: list[_Field]) -> type:
    """A Struct mirror of `cls` (a dataclass or Struct). Keyword-only, so a required field
    may follow one with a default, as a dataclass's may."""
    config = getattr(cls, "__struct_config__", None)
    # A dataclass has no wire options: msgspec's defaults read it as a dict of its fields.
    options: dict[str, Any] = {}
    if config is not None:  # a Struct keeps its wire form: tags, arrays, unknown fields
        options = {
            "tag": config.tag,
            "tag_field": config.tag_field,
            "array_like": config.array_like,
            "forbid_unknown_fields": config.forbid_unknown_fields,
        }
    spec: list[tuple[str, Any, Any]] = []
    # `name=` sets the wire name; the attribute keeps the user's, so rebuilding the
    # user's class from the mirror reads the same names.
    for f in fields:
        if f.required:
            field = msgspec.field(name=f.wire)
        elif f.factory is not None:
            field = msgspec.field(default_factory=f.factory, name=f.wire)
        else:
            field = msgspec.field(default=f.default, name=f.wire)
        spec.append((f.name, f.hint, field))
    try:
        made = msgspec.defstruct(
            cls.__name__,
            spec,
            kw_only=True,
            module=cls.__module__,
            namespace={"__doc__": _doc(cls)},
            **options,
        )
    except (TypeError, ValueError) as exc:  # a default msgspec cannot hold, say
        raise TypeError(f"class {cls.__name__}: {exc}") from None
    _named_like(made, cls)
    return made


def _doc(cls: type) -> str | None:
    """The docstring msgspec would describe `cls` by (not a dataclass's generated one)."""
    doc = cls.__doc__
    # `@dataclass` writes `Name(a: int, b: str)` as the docstring of a class without one:
    # a signature, not a description, so the mirror has none.
    if doc and dataclasses.is_dataclass(cls):
        text = inspect.cleandoc(doc)
        if text.startswith(f"{cls.__name__}(") and text.endswith(")"):
            return None
    return doc


def _named_like(made: type, cls: type) -> None:
    """Name the mirror as `cls`: the schema shows its title, description and `$defs` key,
    and the model reading it must see the user's class, not the mirror."""
    made.__module__ = cls.__module__
    made.__qualname__ = cls.__qualname__  # msgspec names clashing $defs by it
    made.__doc__ = _doc(cls)
