"""Type hints to tool schemas and validators: built once per function with msgspec.

Input: a function's parameters (less the injected ones) become one JSON Schema 2020-12
object (server/tools, `inputSchema`) and one msgspec conversion that turns the JSON
arguments into keyword arguments; a bad argument raises `ArgumentError`, whose message
tells the model what to fix (SEP-1303; worded by `argument_messages`, re-exported here).
Unknown arguments are refused, and the schema says so with `additionalProperties: false`:
the spec recommends that form for tools without parameters, and a misspelt optional
argument silently falling back to its default is the worst outcome for a model. A
function with `**kwargs` takes unknown arguments instead. Values are taken as JSON Schema
reads the schema (3.0 is an integer, "36" is not) unless the signature is built to `coerce`
strings (prompt and URI template arguments, lenient tools).

Output: see `output` (its names are re-exported here).
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, cast

import msgspec

from mcpkit.server.schemas._annotations import resolve_hints, type_name, unwrap_callable
from mcpkit.server.schemas._arguments import Fill, read_arguments
from mcpkit.server.schemas._coercion import has_integral_floats, integral_floats_as_ints
from mcpkit.server.schemas._docstrings import parameter_docs
from mcpkit.server.schemas._hints import dec_hook, enc_hook, schema_components
from mcpkit.server.schemas._refs import inline_defs
from mcpkit.server.schemas._unsupported import unsupported
from mcpkit.server.schemas.argument_messages import (
    ArgumentError,
    argument_error,
    json_kind,
    with_choices,
)
from mcpkit.server.schemas.output import OutputError, OutputSpec, output_spec, schema_for_type

__all__ = [
    "ArgumentError",
    "FunctionSignature",
    "OutputError",
    "OutputSpec",
    "build_signature",
    "decode_arguments",
    "output_spec",
    "schema_for_type",
]

_ARGUMENTS: Final = "mcpkit:arguments"  # a name no user class can have, so no $defs clash
_make_typed_dict = cast(Callable[[str, dict[str, Any]], type], typing.TypedDict)


# ------------------------------------------------------------------ input


def _never(annotation: object) -> bool:
    """The default `skip`: nothing injected, every parameter is an argument."""
    return False


@dataclass(frozen=True, slots=True)
class FunctionSignature:
    """A function's parameters as a tool input schema and a validator, built once.

    `parameters` are the names filled from arguments and `arguments` the names those
    arguments have on the wire, in the same order (they differ where a pydantic `Field`
    gives an alias); `injected` are the parameters the framework fills (by the `skip`
    predicate). `output` describes the return hint (see `output_spec`).
    """

    name: str
    parameters: tuple[str, ...]
    arguments: tuple[str, ...]
    injected: tuple[str, ...]
    input_schema: dict[str, Any]
    output: OutputSpec
    accepts_extra: bool
    _arguments_type: Any = field(repr=False)
    _names: frozenset[str] = field(repr=False)
    _json_decoder: msgspec.json.Decoder[Any] | None = field(default=None, repr=False)
    coerce: bool = False
    _renames: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # wire, parameter
    _fills: tuple[Fill, ...] = field(default=(), repr=False)
    _rebuilds: tuple[tuple[str, Any], ...] = field(default=(), repr=False)  # name, hint
    _plain: bool = field(default=True, repr=False)  # no renames, fills, rebuilds or **kwargs
    #: Whether the struct `_json_decoder` makes has a value for every parameter (none is
    #: optional without a default of its own: nothing is left UNSET).
    _all_set: bool = field(default=False, repr=False)
    #: Where that struct has every parameter (`_all_set`), its decoder's own `decode`:
    #: `msgspec.structs.asdict` of what it gives is what `validate_json` answers for the same
    #: text, without a Python call (the usual tool's tools/call). Text it refuses goes
    #: through `validate_json`, which words the error. None for the other signatures.
    decode_all_set: Callable[[bytes | msgspec.Raw], Any] | None = field(default=None, repr=False)

    @property
    def renamed(self) -> dict[str, str]:
        """Parameter name to argument name, for those that differ (a pydantic `Field`'s alias)."""
        return {name: wire for wire, name in self._renames}

    def validate(self, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Convert JSON arguments to keyword arguments, or raise ArgumentError saying why.

        By default a value is taken only if the input schema allows it: `"36"` is no
        integer, but `3.0` is one (JSON Schema counts numbers, not notations). With
        `coerce`, strings are converted to the numbers and booleans the hints ask for
        (msgspec's lax mode: prompt and URI template arguments are always strings).
        Objects become the dataclass, Struct or model the hint names. Omitted optional
        arguments are left to the function, but for a default given in a pydantic `Field`,
        which is filled here (the function's own default is the FieldInfo).
        """
        if arguments is None:
            arguments = {}
        elif not isinstance(cast(object, arguments), dict):
            raise ArgumentError(f"arguments must be a JSON object, got {json_kind(arguments)}")
        if not self.accepts_extra and not self._names.issuperset(arguments):
            raise self._unknown(arguments)
        try:
            kwargs = self._convert(arguments)
        except msgspec.ValidationError as exc:
            error = argument_error(str(exc))
            # Only where the argument's own value is the bad one: `with_choices` reads the
            # top-level property, which says nothing of the values deeper inside.
            if error.argument is not None and error.path == f"$.{error.argument}":
                error = with_choices(error, self.input_schema)
            raise error from None
        if self._plain:  # the common case, at the cost of the one check it always had
            return kwargs
        return self._completed(kwargs, arguments)

    def _completed(self, kwargs: dict[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
        """Converted arguments by parameter name, with `**kwargs`' share, the defaults of
        pydantic Fields, and the user's classes built back from their mirrors."""
        # Renamed first: every later step speaks parameter names.
        for wire, name in self._renames:
            if wire in kwargs:
                kwargs[name] = kwargs.pop(wire)
        for name, hint in self._rebuilds:
            if name in kwargs:
                kwargs[name] = self._rebuilt(name, hint, kwargs[name])
        if self.accepts_extra:
            kwargs.update(self._extra(arguments))
        if self._fills:
            self._fill(kwargs)
        return kwargs

    def _extra(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments a `**kwargs` takes: those no parameter is named on the wire, but
        not a parameter's own name where its argument is named otherwise (an alias)."""
        extra = {k: v for k, v in arguments.items() if k not in self._names}
        for wire, name in self._renames:
            if name in extra:
                raise ArgumentError(
                    f"unknown argument `{name}`; did you mean `{wire}`?",
                    argument=name,
                    path=f"$.{name}",
                )
        return extra

    def _rebuilt(self, name: str, hint: Any, value: object) -> Any:
        """`value`, validated against the mirrors of the classes in `hint`, built into
        those classes (their `__post_init__` may still refuse it)."""
        try:
            return msgspec.convert(value, hint, from_attributes=True, dec_hook=_decoded_already)
        except msgspec.ValidationError as exc:
            # The path re-rooted at the argument as the model named it on the wire.
            wire = self.renamed.get(name, name)
            detail, _, path = str(exc).partition(" - at `$")
            raise argument_error(f"{detail} - at `$.{wire}{path or '`'}") from None

    def _fill(self, kwargs: dict[str, Any]) -> None:
        for name, default, factory in self._fills:
            if name not in kwargs:
                # A fresh value per call, as pydantic gives: a list default is not shared.
                kwargs[name] = factory() if factory is not None else copy.deepcopy(default)

    def _convert(self, arguments: dict[str, Any]) -> dict[str, Any]:
        convert = functools.partial(
            msgspec.convert, type=self._arguments_type, strict=not self.coerce, dec_hook=dec_hook
        )
        try:
            return cast("dict[str, Any]", convert(arguments))
        except msgspec.ValidationError:
            if not has_integral_floats(arguments):
                raise
        # JSON Schema: 3.0 is an integer. Strict msgspec refuses it (and lax msgspec too,
        # past 2**53: 9007199254740994.0), so retry with integral floats as ints (an int is
        # also a valid float), keeping the first error.
        try:
            return cast("dict[str, Any]", convert(integral_floats_as_ints(arguments)))
        except msgspec.ValidationError:
            pass
        return cast("dict[str, Any]", convert(arguments))  # raises the first error again

    def validate_json(self, raw: bytes | msgspec.Raw) -> dict[str, Any]:
        """`validate` for arguments still in their JSON text (empty: none were given).

        Decodes straight into a struct made from the parameters, which skips building the
        intermediate dict: the hot path of tools/call. Whatever fails goes through
        `validate` again, so errors read exactly the same either way.
        """
        # fast path: mirrors `validate` (docs/performance.md, fast paths)
        decoder = self._json_decoder
        if not raw:
            return self.validate(None)
        if decoder is None:
            return self.validate(decode_arguments(raw))
        try:
            obj = decoder.decode(raw)
        except msgspec.ValidationError as exc:
            return self.validate(decode_arguments(raw, exc))  # raises the worded error
        if self._all_set:  # (its fields are the parameters, in their order)
            return msgspec.structs.asdict(obj)
        return {  # the struct gives the defaults of Fields (`_fills`) itself
            name: value
            for name in self.parameters
            if (value := getattr(obj, name)) is not msgspec.UNSET
        }

    def _unknown(self, arguments: dict[str, Any]) -> ArgumentError:
        """The error for arguments no parameter takes, with the closest real name and the
        full list: a model that misspelt one can fix its call from this alone (SEP-1303)."""
        unknown = sorted(k for k in arguments if k not in self._names)
        name = unknown[0]
        message = (
            f"unknown argument `{name}`"
            if len(unknown) == 1
            else ("unknown arguments " + ", ".join(f"`{u}`" for u in unknown))
        )
        close = difflib.get_close_matches(name, self.arguments, n=1)
        if close:
            message += f"; did you mean `{close[0]}`?"
        expected = ", ".join(f"`{p}`" for p in self.arguments) or "none"
        return ArgumentError(
            f"{message} (expected arguments: {expected})", argument=name, path=f"$.{name}"
        )


def _decoded_already(tp: Any, obj: Any) -> Any:
    """`dec_hook` for values decoded once already: a Path, a model... stays as it is."""
    if isinstance(tp, type) and isinstance(obj, tp):
        return obj
    return dec_hook(tp, obj)


def decode_arguments(raw: bytes | msgspec.Raw, typed: Exception | None = None) -> Any:
    """Arguments as plain JSON values. The message was checked as JSON already, so the one
    failure left is a number past a double's range (1e999), which is the model's to fix; the
    typed decoder's error, when there was one, knows the path by its keys."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(typed if typed is not None and "out of range" in str(typed) else exc)
        path = text.rpartition(" - at `")[2].rstrip("`") or "$"
        raise ArgumentError(
            f"a number at `{path}` is out of range: JSON numbers must fit a 64-bit float",
            path=path,
        ) from None


def _encodable(value: object) -> tuple[bool, Any]:
    """A default as JSON, or (False, None) where it has none (an object the function makes
    for itself): such a default is left out of the schema, not a failed registration."""
    try:
        return True, msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)
    except (TypeError, ValueError):
        return False, None


def build_signature(
    fn: Callable[..., Any],
    *,
    skip: Callable[[Any], bool] = _never,
    force_output: bool = False,
    coerce: bool = False,
) -> FunctionSignature:
    """Read `fn`'s parameters, hints and docstring once; see FunctionSignature.

    `coerce` converts strings to the numbers and booleans the hints ask for (see
    `FunctionSignature.validate`); by default arguments must fit the input schema as sent.

    `skip(annotation)` picks the parameters the framework injects (also looked for inside
    Optional and Annotated). `force_output` is `output_spec`'s `force`. Raises
    UnsupportedAnnotation (a TypeError) for hints msgspec cannot describe, and TypeError for
    positional-only parameters.
    """
    target = unwrap_callable(fn)
    hints = resolve_hints(target)
    docs = parameter_docs(inspect.getdoc(target) or "")
    arguments = read_arguments(fn, target, hints, docs, skip=skip, coerce=coerce)
    fields = arguments.fields
    arguments_type = _make_typed_dict(_ARGUMENTS, fields)
    try:
        schema = _input_schema(arguments_type, arguments.defaults, arguments.accepts_extra)
    except TypeError as exc:
        tested = {arguments.python_names[w]: typing.get_args(h)[0] for w, h in fields.items()}
        raise unsupported(type_name(target), exc, hints, tested) from None
    try:
        output = output_spec(hints.get("return", inspect.Parameter.empty), force=force_output)
    except TypeError as exc:
        raise unsupported(type_name(target), exc, hints) from None
    python_names = arguments.python_names
    renames = tuple((w, p) for w, p in python_names.items() if w != p)
    filled = {name for name, _, _ in arguments.fills}
    # Mirrors are built back in `validate`; the fast path stays free of that check.
    decoder = (
        None
        if arguments.accepts_extra or arguments.rebuilds
        else _json_decoder(fields, python_names, arguments.fills, strict=not coerce)
    )
    all_set = all(
        typing.get_origin(wrapped) is typing.Required or python_names[wire] in filled
        for wire, wrapped in fields.items()
    )
    return FunctionSignature(
        name=type_name(target),
        parameters=tuple(python_names.values()),
        arguments=tuple(fields),
        injected=tuple(arguments.injected),
        input_schema=schema,
        output=output,
        accepts_extra=arguments.accepts_extra,
        _arguments_type=arguments_type,
        _names=frozenset(fields),
        _json_decoder=decoder,
        coerce=coerce,
        _renames=renames,
        _fills=tuple(arguments.fills),
        _rebuilds=tuple(arguments.rebuilds),
        _plain=not (renames or arguments.fills or arguments.accepts_extra or arguments.rebuilds),
        _all_set=all_set,
        decode_all_set=None if decoder is None or not all_set else decoder.decode,
    )


def _json_decoder(
    fields: dict[str, Any], python_names: dict[str, str], fills: list[Fill], *, strict: bool
) -> msgspec.json.Decoder[Any] | None:
    """A decoder from JSON text to a struct of the parameters (unknown names refused, as
    `validate` does), or None where the names or hints do not make such a struct."""
    spec: list[tuple[str, Any, Any]] = []
    fresh = {name: factory or functools.partial(copy.deepcopy, d) for name, d, factory in fills}
    for wire, wrapped in fields.items():
        (hint,) = typing.get_args(wrapped)  # Required[...] / NotRequired[...]
        name = python_names[wire]
        if typing.get_origin(wrapped) is typing.Required:
            spec.append((name, hint, msgspec.field(name=wire)))
        elif name in fresh:
            spec.append((name, hint, msgspec.field(default_factory=fresh[name], name=wire)))
        else:
            optional = msgspec.field(default=msgspec.UNSET, name=wire)
            spec.append((name, hint | msgspec.UnsetType, optional))
    try:
        struct = msgspec.defstruct("Arguments", spec, kw_only=True, forbid_unknown_fields=True)
        return msgspec.json.Decoder(struct, strict=strict, dec_hook=dec_hook)
    except (TypeError, ValueError):
        return None


def _input_schema(
    arguments_type: Any, defaults: dict[str, Any], accepts_extra: bool
) -> dict[str, Any]:
    """The tool's `inputSchema`: msgspec's schema of the arguments' TypedDict, taken out of
    its `$defs` to be the root object schema the spec requires (server/tools, "Tool"), with
    the defaults shown and the definitions inlined (`_refs`)."""
    (ref,), defs = schema_components([arguments_type])
    root = defs.pop(ref["$ref"].rsplit("/", 1)[1])
    # msgspec sorts a TypedDict's keys; the model and prompt lists read better in
    # the order the function declares them.
    order = list(arguments_type.__annotations__)
    given: dict[str, Any] = root.get("properties", {})
    properties = {name: given[name] for name in order}
    for name, default in defaults.items():
        ok, encoded = _encodable(default)
        if ok:
            properties[name] = {**properties[name], "default": encoded}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if root.get("required"):
        schema["required"] = [name for name in order if name in root["required"]]
    if not accepts_extra:
        schema["additionalProperties"] = False
    return inline_defs(schema, defs)
