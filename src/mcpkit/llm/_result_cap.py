"""A tool result cut to what a model's request can carry: a server's answer of any size would
otherwise go whole into the next request, which the API refuses, ending the loop."""

from __future__ import annotations

import json
from typing import Final

from mcpkit.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
)

__all__ = ["DEFAULT_MAX_RESULT_CHARS", "capped"]

#: About 25,000 tokens of text: room for several results in any of the providers' contexts.
DEFAULT_MAX_RESULT_CHARS: Final = 100_000


def _size(block: ContentBlock) -> int:
    if isinstance(block, TextContent):
        return len(block.text)
    if isinstance(block, ImageContent | AudioContent):
        return len(block.data)
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        return len(resource.blob if isinstance(resource, BlobResourceContents) else resource.text)
    return len(block.uri) + len(block.name) + len(block.description or "")  # a ResourceLink


def capped(result: CallToolResult, limit: int) -> CallToolResult:
    """`result` if its text and data come to `limit` characters at most; else its first
    blocks within `limit` (text cut to fit, a larger image or file left out) and a note that
    says so, for the model to ask for less. The structured result, sent as JSON text, counts;
    a cut one is dropped (half an object is no object)."""
    structured = result.structured_content
    given = sum(_size(block) for block in result.content)
    if structured is not None:
        given += len(json.dumps(structured, ensure_ascii=False))
    if given <= limit:
        return result
    kept: list[ContentBlock] = []
    left = limit
    for block in result.content:
        size = _size(block)
        if size <= left:
            kept.append(block)
            left -= size
        elif isinstance(block, TextContent) and left > 0:
            kept.append(TextContent(text=block.text[:left]))
            left = 0
    note = (
        f"[The tool's result was {given} characters, more than the {limit} "
        "(max_result_chars) passed on: what is above is its start. Ask for less, or for the "
        "rest, if you need it.]"
    )
    return CallToolResult(content=[*kept, TextContent(text=note)], is_error=result.is_error)
