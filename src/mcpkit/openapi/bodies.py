"""Request bodies as arguments, and 2xx responses as an output schema.

A JSON, form (`application/x-www-form-urlencoded`) or multipart (`multipart/form-data`) body
whose schema is a plain object is flattened: each property is an argument. Any other body
(an array, a `oneOf` of shapes, a string, a recursive schema) is one argument, `body`.
A file of a multipart body (`format: binary`, or 3.1's `contentMediaType`) is an argument
holding the file's bytes as a base64 string (`contentEncoding: base64`); it is sent under
the property's name as its file name, with `application/octet-stream` or the schema's
`contentMediaType`. A body of another media type is one `body` argument: a string sent as it
is for `text/*`, base64 bytes otherwise. A body the document marks optional makes all its
arguments optional, and is sent only when one of them is given; `readOnly` properties are
no arguments (the API sets them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from mcpkit.openapi.schemas import Definitions, SchemaReader, as_list, as_object

__all__ = [
    "WRAP_MARK",
    "BodyField",
    "BodyKind",
    "RequestBody",
    "ResponseShape",
    "read_request_body",
    "read_response",
]

#: How a body is encoded on the wire.
BodyKind = Literal["json", "form", "multipart", "text", "bytes"]

#: The keyword mcpkit's output schemas carry when a non-object value is wrapped as
#: `{"result": value}` (the same as `mcpkit.server.schemas.output.WRAP_MARK`, kept apart
#: because this package sits below the server layer).
WRAP_MARK: Final = "x-fastmcp-wrap-result"

_FORM: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
_BASE64: Final = {"type": "string", "contentEncoding": "base64"}


@dataclass(frozen=True)
class BodyField:
    """One argument taken from the body: a property (`key`), or the whole body (`key=None`)."""

    key: str | None
    schema: Any
    required: bool
    #: a file: the argument is base64 text, decoded before sending
    binary: bool = False
    media_type: str | None = None


@dataclass(frozen=True)
class RequestBody:
    media_type: str
    kind: BodyKind
    required: bool
    fields: tuple[BodyField, ...]

    @property
    def whole(self) -> bool:
        """The body is one argument rather than flattened properties."""
        return len(self.fields) == 1 and self.fields[0].key is None


@dataclass(frozen=True)
class ResponseShape:
    """The output schema of a 2xx answer (`None` when it has no JSON schema)."""

    schema: dict[str, Any] | None
    wrapped: bool
    media_type: str | None


def _is_json(media: str) -> bool:
    base = media.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _pick_media(content: Mapping[str, Any]) -> str | None:
    """JSON first, then a form, then multipart, then whatever the document lists first."""
    for kind in ("json", "form", "multipart"):
        for media in content:
            if _kind(media) == kind:
                return media
    return next(iter(content), None)


def _kind(media: str) -> BodyKind:
    low = media.lower()
    if _is_json(low):
        return "json"
    if low.startswith(_FORM):
        return "form"
    if low.startswith(_MULTIPART):
        return "multipart"
    return "text" if low.startswith("text/") else "bytes"


def _file_schema(node: Any) -> tuple[Any, bool, str | None]:
    """A multipart property's argument schema, whether it is a file, and its media type."""
    schema = as_object(node)
    if schema is None:
        return node, False, None
    if schema.get("format") == "binary" or "contentMediaType" in schema:
        described = {k: schema[k] for k in ("description", "title") if k in schema}
        media = schema.get("contentMediaType")
        return {**_BASE64, **described}, True, str(media) if media is not None else None
    items = as_object(schema.get("items"))
    if schema.get("type") == "array" and items is not None:
        inner, binary, media = _file_schema(items)
        if binary:
            return {**schema, "items": inner}, True, media
    return node, False, None


def _open_root(schema: Any, defs: Definitions) -> Any:
    """A schema that is only a reference to a definition, as that definition's body: its own
    references to `#/$defs/...` still resolve once `$defs` sits beside it. A definition used
    only here (a large body schema, kept for its size) leaves `$defs`, not to be sent twice."""
    found = as_object(schema)
    if found is None or set(found) != {"$ref"}:
        return schema
    name = str(found["$ref"]).removeprefix("#/$defs/")
    body = defs.schemas.get(name, schema)
    if defs.uses.get(name) == 1 and not defs.is_recursive(name):
        del defs.schemas[name]
    return body


def _flattenable(node: Any) -> bool:
    schema = as_object(node)
    if schema is None:
        return False
    if any(k in schema for k in ("allOf", "anyOf", "oneOf", "$ref", "not", "if")):
        return False
    return schema.get("type") == "object" or (
        "type" not in schema and as_object(schema.get("properties")) is not None
    )


def read_request_body(
    reader: SchemaReader, node: Any, where: str, defs: Definitions
) -> RequestBody | None:
    """The body of an operation as arguments (see the module), or `None` without one."""
    if node is None:
        return None
    body, where = reader.resolve(node, where)
    content = as_object(body.get("content"))
    if not content:
        return None
    media = _pick_media(content)
    assert media is not None
    kind = _kind(media)
    required = bool(body.get("required", False))
    entry = as_object(content[media]) or {}
    raw: object = entry.get("schema", {})
    schema = reader.schema(raw, f"{where}/content/{media.replace('/', '~1')}/schema", defs)
    if kind in ("text", "bytes"):
        arg = {"type": "string"} if kind == "text" else dict(_BASE64)
        return RequestBody(
            media, kind, required, (BodyField(None, arg, required, kind == "bytes"),)
        )
    schema = _open_root(schema, defs)
    if not _flattenable(schema):
        return RequestBody(media, kind, required, (BodyField(None, schema, required),))
    needed: set[str] = (
        {str(n) for n in as_list(schema.get("required")) or []} if required else set()
    )
    fields: list[BodyField] = []
    for key, prop in (as_object(schema.get("properties")) or {}).items():
        if (as_object(prop) or {}).get("readOnly") is True:
            continue  # the API sets it; a request must not carry it
        binary, file_media = False, None
        if kind == "multipart":
            prop, binary, file_media = _file_schema(prop)
        fields.append(BodyField(key, prop, key in needed, binary, file_media))
    return RequestBody(media, kind, required, tuple(fields))


def _success_codes(responses: Mapping[str, Any]) -> list[str]:
    exact = sorted(c for c in responses if len(c) == 3 and c.startswith("2") and c.isdigit())
    return exact + [c for c in responses if c.upper() == "2XX"]


def read_response(
    reader: SchemaReader, responses: Any, where: str, defs: Definitions
) -> ResponseShape:
    """The output schema of the first 2xx answer with a body: its JSON schema as it is when
    an object, wrapped as `{"result": ...}` otherwise (structured content is an object)."""
    codes = as_object(responses)
    if codes is None:
        return ResponseShape(None, False, None)
    for code in _success_codes(codes):
        answer, at = reader.resolve(codes[code], f"{where}/{code}")
        content = as_object(answer.get("content"))
        if not content:
            continue
        media = _pick_media(content)
        assert media is not None
        entry = as_object(content[media])
        if not _is_json(media) or entry is None or "schema" not in entry:
            return ResponseShape(None, False, media)
        path = f"{at}/content/{media.replace('/', '~1')}/schema"
        schema = reader.schema(entry["schema"], path, defs)
        schema = _open_root(schema, defs)
        found = as_object(schema)
        if found is not None and found.get("type") == "object":
            return ResponseShape(dict(found), False, media)
        wrapped: dict[str, Any] = {
            "type": "object",
            "properties": {"result": schema},
            "required": ["result"],
            WRAP_MARK: True,
        }
        return ResponseShape(wrapped, True, media)
    return ResponseShape(None, False, None)
