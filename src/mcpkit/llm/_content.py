"""MCP content blocks as the provider-neutral pieces each provider's mapping starts from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mcpkit.types import (
    AudioContent,
    BlobResourceContents,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
)

__all__ = ["Piece", "data_url", "note", "pieces"]


@dataclass(frozen=True)
class Piece:
    """One thing to show a model: text, or base64 `data` of a MIME type (an image, audio or
    another file, `name` its URI)."""

    kind: Literal["text", "image", "audio", "file"]
    text: str = ""
    mime: str = ""
    data: str = ""
    name: str = ""


def data_url(piece: Piece) -> str:
    return f"data:{piece.mime};base64,{piece.data}"


def note(piece: Piece, api: str) -> Piece:
    """A text piece that says what could not be shown, so the model knows it exists."""
    what = " ".join(part for part in (piece.kind, piece.name, f"({piece.mime})") if part)
    return Piece("text", f"[{what} not shown: {api} takes no such content here]")


def _media(mime: str, data: str, name: str = "") -> Piece:
    kind: Literal["image", "audio", "file"] = (
        "image" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else "file"
    )
    return Piece(kind, mime=mime, data=data, name=name)


def _piece(block: ContentBlock) -> Piece:
    if isinstance(block, TextContent):
        return Piece("text", block.text)
    if isinstance(block, ImageContent | AudioContent):
        return _media(block.mime_type, block.data)
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        if isinstance(resource, BlobResourceContents):
            return _media(
                resource.mime_type or "application/octet-stream", resource.blob, resource.uri
            )
        return Piece("text", f"[resource {resource.uri}]\n{resource.text}")
    # a ResourceLink: the last of the union
    about = f" ({block.mime_type})" if block.mime_type else ""
    described = f": {block.description}" if block.description else ""
    return Piece("text", f"[resource link {block.name}{about}] {block.uri}{described}")


def _holds(texts: list[str], structured: dict[str, Any]) -> bool:
    for text in texts:
        try:
            if json.loads(text) == structured:
                return True
        except ValueError:
            continue
    return False


def pieces(blocks: Sequence[ContentBlock], structured: dict[str, Any] | None = None) -> list[Piece]:
    """The blocks as pieces, and the structured result as JSON text unless a text block
    already holds it (servers SHOULD send it both ways, server/tools "Structured Content")."""
    found = [_piece(block) for block in blocks]
    if structured is not None and not _holds(
        [p.text for p in found if p.kind == "text"], structured
    ):
        found.append(Piece("text", json.dumps(structured, ensure_ascii=False)))
    return found
