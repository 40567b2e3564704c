"""pydantic's `Field` and annotated_types constraints on a parameter, as msgspec reads them.

`x: Annotated[float, Field(gt=0, description=...)]`, `y: int = Field(default=1)` and
`Annotated[int, annotated_types.Gt(0)]` become `msgspec.Meta` (checked in the schema and in
validation alike), the argument's wire name (`alias`) and its default or default factory.
The fields of the classes a hint names are read the same way (`_class_fields`). What a
parameter cannot honour (validators, `exclude`, `discriminator`...) is refused with a
TypeError when the tool is registered: ignoring it would silently change what the tool
accepts. Neither library is imported: what their objects hold is read by `_foreign_metadata`,
from `sys.modules` (a hint holding their objects means the user loaded them).

The translation is done once, when the tool is registered, and only where a foreign object
is found: a plain hint is returned as the same object. Constraints on a union are pushed
into its members, since msgspec checks a constraint on one type; descriptions stay on the
union. A generic class whose fields hold such metadata is refused, not half-read.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any, Final, cast

import msgspec

from mcpkit.server.schemas import _foreign_metadata as foreign
from mcpkit.server.schemas._class_fields import has_fields, mirror_class

__all__ = ["ParameterSpec", "read_parameter"]

_EMPTY: Final = inspect.Parameter.empty
# The constraint options msgspec.Meta takes under the same names as annotated_types and
# pydantic: passed on as they are.
_NUMERIC: Final = ("gt", "ge", "lt", "le", "multiple_of")
_LENGTHS: Final = ("min_length", "max_length")
# Said with every refused constraint: the check can still be made, in the function.
_UNCHECKED: Final = "cannot be checked by mcpkit; check it in the function instead"


@dataclasses.dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One parameter as an argument: its hint (Field and constraints as `msgspec.Meta`),
    its name on the wire, and its default (`inspect.Parameter.empty` when required).
    `filled` says the framework must give the default, since the function's own default
    is a FieldInfo (or is missing); `factory` makes a fresh one per call."""

    hint: Any
    wire_name: str  # the alias, or the parameter's own name
    default: Any = _EMPTY
    factory: Callable[[], Any] | None = None
    filled: bool = False
    rebuild: bool = False  # its value holds mirrors of the user's classes (`_class_fields`)
    renamed: str | None = None  # a class field inside renamed by an alias (`Q.n`)

    @property
    def required(self) -> bool:
        """Whether a call must give it: neither a default nor a factory."""
        return self.default is _EMPTY and self.factory is None


def read_parameter(
    name: str, hint: Any, default: Any, *, coerce: bool, label: str | None = None
) -> ParameterSpec:
    """`name`'s hint and default with pydantic's and annotated_types' metadata translated,
    in its hint and in the fields of the classes it names; `label` names it in refusals
    (by default, as a parameter)."""
    field_info = foreign.field_info_type()
    if field_info is None and foreign.loaded("annotated_types") is None:
        return ParameterSpec(hint, name, default)  # nothing to translate: plain hints
    reader = _Reader(name, field_info, coerce, label or f"parameter {name!r}")
    base, extras = _split(hint)
    # `x: int = Field(...)`: the FieldInfo is metadata like one in Annotated, and the
    # parameter's real default is inside it (or there is none).
    if field_info is not None and isinstance(default, field_info):
        extras, default = (*extras, default), _EMPTY
        reader.from_default = True
    translated = reader.extras(extras, top=True)
    base = reader.nested(base)
    # Nothing foreign anywhere: the user's hint is kept as the very object it was.
    if translated is None and base is _split(hint)[0]:
        return reader.spec(hint, default)
    plain = reader.annotate(base, translated if translated is not None else list(extras))
    try:
        msgspec.inspect.type_info(plain)  # constraints on a type they do not fit
    except TypeError as exc:
        raise reader.refuse(str(exc)) from None
    return reader.spec(plain, default)


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """`Annotated[base, *extras]` as (base, extras); any other hint with no extras."""
    if typing.get_origin(hint) is Annotated:
        base, *extras = typing.get_args(hint)
        return base, tuple(extras)
    return hint, ()


class _Reader:
    """The translation of one parameter's metadata, and what it says of the parameter.

    One reader serves a parameter and every class field inside its hint: what the fields
    say (a mirror was made, a field was renamed) is gathered on it, so the parameter's
    spec tells the signature to rebuild the user's classes from their mirrors. Each
    refusal names the parameter, or the field, as the user wrote it.
    """

    def __init__(self, name: str, field_info: type | None, coerce: bool, label: str) -> None:
        self.name = name
        self.field_info = field_info
        self.coerce = coerce
        self.label = label
        # What the metadata said, gathered as it is read and given to `spec` at the end.
        self.rebuild = False
        self.renamed: str | None = None
        self.from_default = False  # the function's default was a FieldInfo
        self.wire_name: str | None = None
        self.default: Any = _EMPTY
        self.factory: Callable[[], Any] | None = None

    def refuse(self, what: str) -> TypeError:
        """The error for what this parameter cannot honour, naming it as the user wrote it."""
        return TypeError(f"{self.label}: {what}")

    # -------------------------------------------------------------- the hint

    def extras(self, extras: tuple[Any, ...], *, top: bool) -> list[Any] | None:
        """`extras` with pydantic and annotated_types objects as Meta; None if none held one."""
        # The extras keep their order; those of neither library (a msgspec.Meta, a marker
        # of the user's) pass as they are.
        out: list[Any] = []
        changed = False
        for extra in extras:
            if self.field_info is not None and isinstance(extra, self.field_info):
                out += self.field(extra, top=top)
                changed = True
            elif foreign.is_foreign(extra):
                out += self.constraints(extra)
                changed = True
            else:
                out.append(extra)  # msgspec.Meta, or a marker of the user's own
        return out if changed else None

    def nested(self, tp: Any) -> Any:
        """`tp` with the metadata inside its arguments (`list[Annotated[...]]`) translated."""
        origin = typing.get_origin(tp)
        # A class may hold Field metadata in its fields (`_class_fields` reads them).
        if origin is None and isinstance(tp, type):
            return self.nested_class(tp)
        if origin is Annotated:
            base, extras = _split(tp)
            translated = self.extras(extras, top=False)
            inner = self.nested(base)
            if translated is None and inner is base:
                return tp
            return self.annotate(inner, translated if translated is not None else list(extras))
        args = typing.get_args(tp)
        # A Literal's arguments are values, not types: nothing to read inside.
        if origin is None or origin is typing.Literal or not args:
            return tp
        # A generic's mirror would need one per parametrisation: refused, with the
        # msgspec form that does work.
        if has_fields(origin) and self.nested_class(origin) is not origin:
            raise self.refuse(
                f"the generic class {origin.__name__} holds pydantic Field or annotated_types "
                "metadata in its fields, which mcpkit reads only in non-generic classes; "
                "write its constraints with msgspec.Meta"
            )
        new = tuple(self.nested(a) for a in args)
        if all(a is b for a, b in zip(args, new, strict=True)):
            return tp
        # `int | None` cannot be subscripted again: a union is built anew from its members.
        if _is_union(tp):
            return typing.Union[new]  # noqa: UP007  # built from a tuple
        return origin[new]

    def nested_class(self, cls: type) -> Any:
        """`cls` or its mirror, where its fields hold metadata msgspec would skip; the
        mirror is what validation builds, turned back into `cls` for the function."""
        found = mirror_class(cls, self.coerce, self.read_field)
        self.rebuild = self.rebuild or found.rebuild
        self.renamed = self.renamed or found.renamed
        return found.hint

    def read_field(self, label: str, name: str, hint: Any, default: Any) -> ParameterSpec:
        """A class field read as a parameter is (`mirror_class` calls it for each field)."""
        return read_parameter(name, hint, default, coerce=self.coerce, label=label)

    def annotate(self, base: Any, extras: list[Any]) -> Any:
        """`Annotated[base, *extras]`, constraints pushed into the members of an optional
        or other union (as pydantic applies them), since msgspec takes them on one type."""
        if _is_union(base):
            checks = [e for e in extras if isinstance(e, msgspec.Meta) and _constrains(e)]
            if checks:
                # By identity: two equal Meta objects are still two extras of the hint.
                moved = {id(c) for c in checks}
                extras = [_annotations_only(e) if id(e) in moved else e for e in extras]
                members = tuple(self.constrained(m, checks) for m in typing.get_args(base))
                base = typing.Union[members]  # noqa: UP007  # built from a tuple
        extras = [e for e in extras if e is not None]
        return Annotated[(base, *extras)] if extras else base

    def constrained(self, member: Any, checks: list[msgspec.Meta]) -> Any:
        """One union member with the union's constraints; None stays unconstrained, as
        `Optional[Annotated[int, Gt(0)]]` means. TypeError where they do not fit it."""
        if member is type(None):
            return member
        limited = Annotated[(member, *(_constraints_only(c) for c in checks))]
        # Asked of msgspec now, so `str | int` with `Gt(0)` is refused at registration
        # rather than when the schema is first built.
        try:
            msgspec.inspect.type_info(limited)
        except TypeError as exc:
            raise self.refuse(
                f"its constraints do not fit {member!r} in the union: {exc}"
            ) from None
        return limited

    # -------------------------------------------------------------- Field(...)

    def field(self, info: Any, *, top: bool) -> list[msgspec.Meta]:
        """A FieldInfo as Meta; at the top of the hint (`top`) it may also give the
        argument's alias and default, which only a parameter has."""
        self.refuse_unhonoured(info)
        if top:
            self.read_alias(info)
            self.read_default(info)
        # `list[Annotated[int, Field(default=1)]]`: an item has no name and no default.
        elif foreign.has_default(info) or foreign.wire_alias(info) is not None:
            raise self.refuse("a Field inside another type cannot give a default or an alias")
        metas = self.annotations(info)
        for item in info.metadata:
            metas += self.constraints(item)
        return metas

    def refuse_unhonoured(self, info: Any) -> None:
        """TypeError for any Field option set that is not honoured here (`unhonoured_option`
        says which), and for a json_schema_extra that is a function."""
        slot = foreign.unhonoured_option(info)
        if slot is not None:
            raise self.refuse(
                f"Field({slot}=...) has no meaning for a tool or prompt argument; remove it"
            )
        # A callable json_schema_extra edits pydantic's own schema, which is not built here.
        extra = info.json_schema_extra
        if extra is not None and not isinstance(extra, dict):
            raise self.refuse("Field(json_schema_extra=...) must be a dict here, not a function")

    def annotations(self, info: Any) -> list[msgspec.Meta]:
        """The Field's schema-only options (title, description, examples, deprecated and
        extra keys) as Meta: shown in the schema, never checked."""
        extra: dict[str, Any] = dict(info.json_schema_extra or {})
        if info.deprecated:
            extra["deprecated"] = True
        examples = info.examples
        if examples is not None and not isinstance(examples, list):
            raise self.refuse("Field(examples=...) must be a list")
        given: dict[str, Any] = {
            "title": info.title,
            "description": info.description,
            "examples": examples,
            "extra_json_schema": extra or None,
        }
        kept = {k: v for k, v in given.items() if v is not None}
        return [msgspec.Meta(**kept)] if kept else []

    def read_alias(self, info: Any) -> None:
        """The argument's name on the wire, from the alias validation reads; an alias
        path (`AliasPath`) or a different serialization alias has no meaning here."""
        alias = foreign.wire_alias(info)
        if alias is None:
            return
        if not isinstance(alias, str):
            raise self.refuse("only a plain string alias can name an argument")
        serialization = info.serialization_alias
        if serialization is not None and serialization != alias:
            raise self.refuse("Field(serialization_alias=...) has no meaning for an argument")
        self.wire_name = alias

    def read_default(self, info: Any) -> None:
        """The default or default factory the Field gives, once."""
        if not foreign.has_default(info):
            return
        if self.default is not _EMPTY or self.factory is not None:
            raise self.refuse("give its default once, in one Field(...)")
        # A factory, not its value: each call gets a fresh list or dict of its own.
        if info.default_factory is not None:
            factory = info.default_factory
            if foreign.takes_arguments(factory):
                raise self.refuse(
                    "a default_factory that takes the validated data is not supported"
                )
            self.factory = factory
        else:
            self.default = info.default

    # -------------------------------------------------------------- constraints

    def constraints(self, item: Any) -> list[msgspec.Meta]:
        """One annotated_types (or pydantic) constraint object as Meta."""
        # A group iterates over its parts (`Interval(gt=0, lt=9)` is `Gt(0)`, `Lt(9)`).
        if foreign.is_grouped(item):
            return [meta for part in item for meta in self.constraints(part)]
        items = foreign.options_of(item)
        if items is None:
            raise self.refuse(f"{type(item).__name__} {_UNCHECKED}")
        values: dict[str, Any] = {}
        for key, value in items.items():
            values.update(self.constraint(key, value, item))
        return [msgspec.Meta(**values)] if values else []

    def constraint(self, key: str, value: Any, item: Any) -> dict[str, Any]:
        """One option of a constraint as Meta's; TypeError for any msgspec cannot check,
        since a constraint shown in the schema but not enforced would mislead both sides."""
        if key in _NUMERIC and isinstance(value, (int, float)) and not isinstance(value, bool):
            return {key: value}
        if key in _LENGTHS and isinstance(value, int):
            return {key: value}
        if key == "pattern":
            return {key: _pattern(value, self)}
        # Options asking for what arguments already are (strict types without `coerce`,
        # finite JSON numbers): nothing to add. Other values ask for a conversion mcpkit
        # does not make, and are refused below.
        if key == "strict" and value is True and not self.coerce:
            return {}  # arguments are taken strictly already
        if key == "allow_inf_nan" and value is False:
            return {}  # JSON numbers are always finite
        raise self.refuse(f"{type(item).__name__}({key}={value!r}) {_UNCHECKED}")

    # -------------------------------------------------------------- the result

    def spec(self, hint: Any, python_default: Any) -> ParameterSpec:
        """The result, with `python_default` the default written after `=` (if not a
        FieldInfo); two defaults are refused, since which one wins would be a guess."""
        given = self.default is not _EMPTY or self.factory is not None
        if given and python_default is not _EMPTY:
            raise self.refuse("give its default once: in Field(...) or after `=`, not both")
        wire_name = self.wire_name or self.name
        # `filled`: the function's own default is missing or a FieldInfo, so the framework
        # must give the value itself when the argument is left out.
        if given or self.from_default:
            return ParameterSpec(
                hint,
                wire_name,
                self.default,
                self.factory,
                filled=True,
                rebuild=self.rebuild,
                renamed=self.renamed,
            )
        return ParameterSpec(
            hint, wire_name, python_default, rebuild=self.rebuild, renamed=self.renamed
        )


def _is_union(tp: Any) -> bool:
    """`Union[...]`/`Optional[...]` or `a | b` (types.UnionType)."""
    return typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType"


def _pattern(value: object, reader: _Reader) -> str:
    """A pattern as the text msgspec and JSON Schema take; a compiled one's flags would be
    lost in that text, so one with flags is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, re.Pattern):
        compiled = cast("re.Pattern[str] | re.Pattern[bytes]", value)
        source = compiled.pattern
        if isinstance(source, str) and compiled.flags in (0, re.UNICODE):
            return source
    raise reader.refuse("a pattern must be a string (or a compiled one without flags)")


def _constrains(meta: msgspec.Meta) -> bool:
    """Whether `meta` checks values (rather than only describing them)."""
    return any(getattr(meta, k) is not None for k in (*_NUMERIC, *_LENGTHS, "pattern"))


def _constraints_only(meta: msgspec.Meta) -> msgspec.Meta:
    """`meta`'s checks, to push into each union member."""
    keys = (*_NUMERIC, *_LENGTHS, "pattern")
    return msgspec.Meta(**{k: getattr(meta, k) for k in keys if getattr(meta, k) is not None})


def _annotations_only(meta: msgspec.Meta) -> msgspec.Meta | None:
    """`meta`'s descriptions, which stay on the union as a whole; None when it has none."""
    keys = ("title", "description", "examples", "extra_json_schema", "extra")
    kept = {k: getattr(meta, k) for k in keys if getattr(meta, k) is not None}
    return msgspec.Meta(**kept) if kept else None
