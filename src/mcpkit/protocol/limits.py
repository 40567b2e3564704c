"""The limits on what a peer may send, defined once; no other part of mcpkit is imported, so a
transport can share them without loading the protocol core."""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "MAX_JSON_DEPTH"]

#: The largest message, in bytes, a session reads (`max_message_size`); a larger one is
#: answered with -32600 Invalid Request and the session goes on.
DEFAULT_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024

#: The deepest nesting of JSON arrays and objects a session decodes (`max_json_depth`),
#: counted over the whole message, envelope included. Real MCP messages nest a few dozen
#: levels at most; decoding recurses once per level, and Python's recursion limit (1,000 by
#: default, shared with the caller's frames) is what a deeper message would hit. A deeper
#: message is answered with -32600 Invalid Request and the session goes on.
MAX_JSON_DEPTH: Final = 256
