"""`ResultBudget`: the size a tool's result content must fit (`max_result=`), and cutting
content blocks to it, with no I/O (what happens to the overflow is `result_store`'s).

Sizes are UTF-8 bytes of the content as sent: a text block's text, an image's or audio's
base64 data, any other block's JSON. Tokens are estimated as bytes / 4 (about right for
English prose; code, JSON and non-Latin scripts take more tokens per byte, so give a
token budget some margin below a client's cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import msgspec

from mcpkit.stores.kv import MAX_TTL
from mcpkit.types import AudioContent, ContentBlock, ImageContent, TextContent

__all__ = [
    "BYTES_PER_TOKEN",
    "MIN_BUDGET_BYTES",
    "RESULT_SCHEME",
    "Overflow",
    "ResultBudget",
    "budget_of",
    "block_size",
    "content_size",
    "fits",
    "split_blocks",
]

#: The scheme of the resources an overflow is kept as (`result_store`).
RESULT_SCHEME: Final = "mcpkit-result://"
#: The token estimate: bytes / 4.
BYTES_PER_TOKEN: Final = 4
#: The smallest budget: room for some content and the marker that says what was cut.
MIN_BUDGET_BYTES: Final = 1024
#: Room kept for the marker (and a resource link) out of a budget that is exceeded.
MARKER_ROOM: Final = 512

Overflow = Literal["truncate", "resource", "paginate"]
_OVERFLOWS: Final = ("truncate", "resource", "paginate")  # checked: a Literal is not, at run time


@dataclass(frozen=True, slots=True)
class ResultBudget:
    """The most content a tool's result may carry: `bytes`, or `tokens` (estimated as
    bytes / 4), one of the two. Past it, `overflow` says what happens to the rest:
    "truncate" cuts it, with a marker saying how much; "resource" moves it into a resource
    the same caller can read for `ttl` seconds, linked from the result (`resource_link`);
    "paginate" does the same in pages of the budget's size, one link each. The call is never
    refused for its size; structuredContent is never cut (docs/server.md, "Timeouts and
    result budgets")."""

    bytes: int | None = None
    tokens: int | None = None
    overflow: Overflow = "truncate"
    ttl: float = 900.0

    def __post_init__(self) -> None:
        if (self.bytes is None) == (self.tokens is None):
            raise ValueError("ResultBudget takes one of bytes= and tokens=")
        if self.overflow not in _OVERFLOWS:
            raise ValueError(
                f"ResultBudget: overflow must be 'truncate', 'resource' or 'paginate', "
                f"not {self.overflow!r}"
            )
        if self.limit < MIN_BUDGET_BYTES:
            raise ValueError(
                f"ResultBudget: at least {MIN_BUDGET_BYTES} bytes "
                f"({MIN_BUDGET_BYTES // BYTES_PER_TOKEN} tokens), not {self.limit} bytes"
            )
        if not 0 < self.ttl <= MAX_TTL:  # (the store keeps nothing longer)
            raise ValueError(
                f"ResultBudget: ttl must be seconds above 0 and at most {MAX_TTL:g}, "
                f"not {self.ttl!r}"
            )

    @property
    def limit(self) -> int:
        """The budget in bytes."""
        if self.bytes is not None:
            return self.bytes
        return (self.tokens or 0) * BYTES_PER_TOKEN


def budget_of(where: str, max_result: object) -> ResultBudget | None:
    """`max_result=` as a `ResultBudget`: an int is bytes, cut with "truncate"; None, none.
    ValueError (TypeError for another type) naming `where`."""
    if max_result is None or isinstance(max_result, ResultBudget):
        return max_result
    # bool is an int to Python, but max_result=True is a slip, not a budget of one byte.
    if isinstance(max_result, int) and not isinstance(max_result, bool):
        try:
            return ResultBudget(bytes=max_result)
        except ValueError as exc:
            raise ValueError(f"{where}: max_result: {exc}") from None
    raise TypeError(
        f"{where}: max_result must be a number of bytes or a ResultBudget, not {max_result!r}"
    )


def block_size(block: ContentBlock) -> int:
    """The bytes `block` takes in a result (its text, its data, else its JSON)."""
    if isinstance(block, TextContent):
        return len(block.text.encode())
    # An image's or audio's data is base64 text, ASCII: its length is its size in bytes.
    if isinstance(block, ImageContent | AudioContent):
        return len(block.data)
    return len(msgspec.json.encode(block))


def content_size(content: list[ContentBlock]) -> int:
    """The bytes of `content`."""
    return sum(block_size(b) for b in content)


def fits(content: list[ContentBlock], limit: int) -> bool:
    """Whether `content` takes at most `limit` bytes (texts short enough to fit whatever
    their characters, 4 UTF-8 bytes at most each, are not encoded to be measured)."""
    chars = 0
    for block in content:
        if not isinstance(block, TextContent):
            return content_size(content) <= limit
        chars += len(block.text)
    return chars * 4 <= limit or content_size(content) <= limit


def split_blocks(
    content: list[ContentBlock], room: int
) -> tuple[list[ContentBlock], list[ContentBlock]]:
    """`content` cut at `room` bytes: the blocks that fit (the last text one cut at a
    character, or a line if one ends near the cut) and the rest, in order. An image or any
    other block that does not fit whole goes to the rest whole."""
    kept: list[ContentBlock] = []
    used = 0
    for index, block in enumerate(content):
        size = block_size(block)
        if used + size <= room:
            kept.append(block)
            used += size
            continue
        rest = content[index + 1 :]
        # Only text is cut inside a block: half an image, or half a resource's JSON, is of
        # no use to anyone, so such a block goes whole to the rest.
        if isinstance(block, TextContent) and room - used > 0:
            head, tail = _cut_text(block.text, room - used)
            if head:
                kept.append(TextContent(text=head))
            return kept, [TextContent(text=tail), *rest]
        return kept, [block, *rest]
    return kept, []


def _cut_text(text: str, room: int) -> tuple[str, str]:
    """`text` cut into a head of at most `room` UTF-8 bytes and the tail."""
    head = text.encode()[:room].decode(errors="ignore")  # (never half a character)
    line_end = head.rfind("\n")
    if line_end >= len(head) * 3 // 4:  # a line ends near the cut: cut there
        head = head[: line_end + 1]
    return head, text[len(head) :]
