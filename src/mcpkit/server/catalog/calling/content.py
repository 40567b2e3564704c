"""Content helpers and the conversion of handler return values into MCP content.

Spec: server/tools (Tool Result: text, image, audio, resource links, embedded resources) and
server/resources (text and blob contents).

The helpers (`text`, `image`, `audio`, `resource_link`, `embedded_resource`) build blocks a
handler returns as they are. A resource read's value becomes contents by its type: text
stays text, bytes become a base64 blob, anything else is encoded as JSON text. A binary
block without a MIME type is refused (ValueError) when it is made, since the spec requires
one and a client could not show the data without it.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias, cast

import msgspec

from mcpkit.server.schemas._hints import enc_hook
from mcpkit.types import (
    Annotations,
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

__all__ = [
    "CONTENT_TYPES",
    "audio",
    "embedded_resource",
    "image",
    "is_content",
    "resource_link",
    "text",
    "to_json_text",
]

#: The content blocks a tool result or a prompt message holds (server/tools, "Tool Result").
CONTENT_TYPES: Final = (TextContent, ImageContent, AudioContent, ResourceLink, EmbeddedResource)
_json: Final = msgspec.json.Encoder(enc_hook=enc_hook)  # pydantic models, Path, ...
_Bytes: TypeAlias = "bytes | bytearray | memoryview"
_Contents: TypeAlias = "Sequence[TextResourceContents | BlobResourceContents]"


def is_content(value: Any) -> bool:
    """Whether `value` is a content block or a non-empty list of them."""
    if isinstance(value, CONTENT_TYPES):
        return True
    # Only a list counts (the form a handler returns several blocks in); an empty one is a
    # value like any other, not content.
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(v, CONTENT_TYPES) for v in cast("list[object]", value))


def to_json_text(value: Any) -> str:
    """Serialize any msgspec-encodable value as JSON text.

    msgspec encodes structs, dataclasses and the standard types; `enc_hook` adds pydantic
    models, paths and the like, so what a handler returns need not be plain JSON.
    """
    return _json.encode(value).decode()


def text(
    value: str, *, annotations: Annotations | None = None, meta: dict[str, Any] | None = None
) -> TextContent:
    """A text block, with annotations (audience, priority) and `_meta` if given."""
    return TextContent(text=value, annotations=annotations, meta=meta)


def _binary(data: bytes | str | Path, mime_type: str | None, default_kind: str) -> tuple[str, str]:
    """Base64 data and its MIME type for an image or audio block. A path's type is guessed
    from its name unless given; ValueError (naming `default_kind`) when none is known, as
    the spec makes `mimeType` required on both blocks."""
    if isinstance(data, Path):
        guessed = mimetypes.guess_type(data.name)[0]
        # A type given by hand wins: a file's extension may not say what it holds.
        mime_type = mime_type or guessed
        data = data.read_bytes()
    if isinstance(data, bytes):
        encoded = base64.b64encode(data).decode()
    else:
        encoded = data  # already base64
    if mime_type is None:
        raise ValueError(f"a mime_type is needed for {default_kind} content")
    return encoded, mime_type


def image(
    data: bytes | str | Path,
    mime_type: str | None = None,
    *,
    annotations: Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> ImageContent:
    """Image content from raw bytes, a base64 string or a file path (type guessed from it).

    Raises ValueError when no `mime_type` is given and none can be guessed.
    """
    encoded, mime = _binary(data, mime_type, "image")
    return ImageContent(data=encoded, mime_type=mime, annotations=annotations, meta=meta)


def audio(
    data: bytes | str | Path,
    mime_type: str | None = None,
    *,
    annotations: Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> AudioContent:
    """Audio content from raw bytes, a base64 string or a file path (type guessed from it).

    Raises ValueError when no `mime_type` is given and none can be guessed.
    """
    encoded, mime = _binary(data, mime_type, "audio")
    return AudioContent(data=encoded, mime_type=mime, annotations=annotations, meta=meta)


def resource_link(
    uri: str,
    name: str,
    *,
    title: str | None = None,
    description: str | None = None,
    mime_type: str | None = None,
    size: int | None = None,
    annotations: Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> ResourceLink:
    """A link to a resource the client may read (or subscribe to).

    The link need not be one of this server's listed resources (server/tools, "Resource
    Links"): a tool may point at a resource it made for this call.
    """
    return ResourceLink(
        uri=uri,
        name=name,
        title=title,
        description=description,
        mime_type=mime_type,
        size=size,
        annotations=annotations,
        meta=meta,
    )


def embedded_resource(
    uri: str,
    content: str | bytes,
    *,
    mime_type: str | None = None,
    annotations: Annotations | None = None,
    meta: dict[str, Any] | None = None,
) -> EmbeddedResource:
    """A resource's contents embedded in a result: text for `str`, a blob for `bytes`."""
    return EmbeddedResource(
        resource=resource_contents(uri, content, mime_type), annotations=annotations, meta=meta
    )


def resource_contents(
    uri: str, value: Any, mime_type: str | None
) -> TextResourceContents | BlobResourceContents:
    """One resource contents entry from a handler's return value.

    An entry made by hand passes as it is (its own URI and type stand). Bytes without a
    given type are `application/octet-stream`, and other values, encoded as JSON,
    `application/json`: each is what the text or blob then holds. Text without a given
    type has none, since nothing says which kind of text it is.
    """
    if isinstance(value, (TextResourceContents, BlobResourceContents)):
        return value
    if isinstance(value, str):
        return TextResourceContents(uri=uri, text=value, mime_type=mime_type)
    if isinstance(value, (bytes, bytearray, memoryview)):
        blob = base64.b64encode(bytes(cast(_Bytes, value))).decode()
        return BlobResourceContents(
            uri=uri, blob=blob, mime_type=mime_type or "application/octet-stream"
        )
    return TextResourceContents(
        uri=uri, text=to_json_text(value), mime_type=mime_type or "application/json"
    )


def contents_list(
    uri: str, value: Any, mime_type: str | None
) -> list[TextResourceContents | BlobResourceContents]:
    """All contents for a read: a list of contents entries passes through as it is.

    Any other list is one value (encoded as JSON), not one entry per item: a resource that
    returns a list of records means the list.
    """
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        entries = cast("Sequence[object]", value)
        if entries and all(
            isinstance(v, (TextResourceContents, BlobResourceContents)) for v in entries
        ):
            return list(cast(_Contents, entries))  # each entry was checked just above
    return [resource_contents(uri, value, mime_type)]
