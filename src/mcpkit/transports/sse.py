"""Server-sent events, sans-I/O: encode events for an SSE answer and name events by the
stream they belong to; the client's incremental parser is `mcpkit.transports.sse_parser`.
SSE is how the HTTP transports frame MCP's messages (Streamable HTTP, the legacy HTTP+SSE),
not part of the protocol itself, so it sits with the transports that use it.

The wire format and the parsing rules are the WHATWG HTML standard's "Server-sent events"
section (9.2, "Parsing an event stream" and "Interpreting an event stream"); MCP's use of it
is the Streamable HTTP transport (basic/transports, "Resumability and Redelivery") and
SEP-1699 (the priming event, `retry`, closing a stream early).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

__all__ = [
    "LINE_END",
    "MAX_EVENT_ID_LENGTH",
    "MAX_STREAM_ID_LENGTH",
    "encode_comment",
    "encode_event",
    "encode_priming",
    "encode_retry",
    "encode_stream",
    "make_event_id",
    "parse_event_id",
]

# Lines end in CRLF, LF or CR (the standard's `end-of-line`); CRLF is tried first so that it
# counts as one line end, not two. The parser splits a stream at the same ends.
LINE_END: Final = re.compile(rb"\r\n|\r|\n")

# ---------------------------------------------------------------------------------------
# Encoding (server side)
# ---------------------------------------------------------------------------------------


def encode_event(
    data: bytes,
    *,
    event_id: str | None = None,
    event: str | None = None,
    retry_ms: int | None = None,
) -> bytes:
    """One SSE event carrying `data` (one JSON-RPC message, UTF-8), ended by a blank line.

    Data with line breaks is sent as several `data` lines, which a client joins with LF
    (so CR and CRLF inside `data` arrive as LF: the format cannot carry them).
    """
    # The hot path: every message of an SSE answer is one `data` line, most with an `id`.
    # (`10 in data` is a memchr; `b"\n" in data` would be a substring search.)
    # Empty data (the priming event's) is one empty `data` line, as `_data_lines` writes it.
    if event is None and retry_ms is None and 10 not in data and 13 not in data:
        if event_id is None:
            return b"data: " + data + b"\n\n" if data else b"data:\n\n"
        if "\n" not in event_id and "\r" not in event_id and "\0" not in event_id:
            if data:
                return b"id: " + event_id.encode() + b"\ndata: " + data + b"\n\n"
            return b"id: " + event_id.encode() + b"\ndata:\n\n"
    head = b"" if event_id is None else b"id: " + _field_value("event_id", event_id) + b"\n"
    if event is not None:
        head += b"event: " + _field_value("event", event, allow_nul=True) + b"\n"
    if retry_ms is not None:
        head += b"retry: " + _retry_value(retry_ms) + b"\n"
    return head + _data_lines(data) + b"\n"


def _data_lines(data: bytes) -> bytes:
    # bytes.splitlines() splits at exactly SSE's line ends (CRLF, LF, CR) but drops a final
    # empty line, which must still be sent for the data to round-trip.
    lines = data.splitlines()
    if not data or data[-1] in b"\r\n":
        lines.append(b"")
    return b"".join(b"data: " + line + b"\n" if line else b"data:\n" for line in lines)


def encode_stream(
    stream_id: str | None,
    events: Sequence[tuple[int, bytes]],
    *,
    after: int = 0,
    priming: bool = False,
) -> bytes:
    """The events `events` (seq, data) of stream `stream_id` numbered above `after`, in one
    piece, each with the id `make_event_id(stream_id, seq)` (none when `stream_id` is None);
    opened by the stream's priming event (`encode_priming`, id `<stream_id>.0`) with
    `priming` (never without an id: it would carry nothing). Each message is copied once,
    into the piece: the hot path of an SSE answer written whole."""
    if stream_id is None:
        return b"".join([encode_event(data) for seq, data in events if seq > after])
    if "\n" in stream_id or "\r" in stream_id or "\0" in stream_id:
        _field_value("event_id", stream_id)  # (raises)
    sid = stream_id.encode()
    if len(events) == 1:  # the usual answer to a call: its one message, in one join
        seq, data = events[0]
        if seq > after and data and 10 not in data and 13 not in data:
            numbered = _NUMBERED[seq] if seq < _NUMBERED_UP_TO else b".%d\ndata: " % seq
            if priming:
                return b"".join((b"id: ", sid, b".0\ndata:\n\nid: ", sid, numbered, data, b"\n\n"))
            return b"".join((b"id: ", sid, numbered, data, b"\n\n"))
    parts = [b"id: ", sid, b".0\ndata:\n\n"] if priming else []
    for seq, data in events:
        if seq <= after:
            continue
        if 10 in data or 13 in data:  # several `data` lines (see `encode_event`)
            parts += (b"id: ", sid, b".%d\n" % seq, _data_lines(data), b"\n")
        elif data:
            numbered = _NUMBERED[seq] if seq < _NUMBERED_UP_TO else b".%d\ndata: " % seq
            parts += (b"id: ", sid, numbered, data, b"\n\n")
        else:
            parts += (b"id: ", sid, b".%d\ndata:\n\n" % seq)
    return b"".join(parts)


# The end of an event's id and the start of its data, for the first events of a stream (most
# streams are a call's: a message or two), made once rather than formatted for each event.
_NUMBERED_UP_TO: Final = 64
_NUMBERED: Final = tuple(b".%d\ndata: " % seq for seq in range(_NUMBERED_UP_TO))


def encode_priming(event_id: str, retry_ms: int | None = None) -> bytes:
    """The event that opens an SSE stream (SEP-1699): an id and an empty `data` field, so the
    client has a `Last-Event-ID` to resume from before the first message arrives.

    A client that follows the standard sees it as a `message` event whose data is "" and
    must skip it, since "" is no JSON-RPC message.
    """
    return encode_event(b"", event_id=event_id, retry_ms=retry_ms)


def encode_retry(retry_ms: int) -> bytes:
    """A `retry`-only event, sent before the server closes a stream early (SEP-1699): it sets
    how many milliseconds the client waits before it reconnects, and dispatches nothing."""
    return b"retry: " + _retry_value(retry_ms) + b"\n\n"


def encode_comment(text: str = "") -> bytes:
    """A comment line (a keep-alive): clients ignore it, but it keeps idle proxies from
    closing the connection. Text with line breaks becomes several comment lines."""
    parts = LINE_END.split(text.encode())
    return b"".join(b": " + part + b"\n" if part else b":\n" for part in parts)


def _field_value(name: str, value: str, *, allow_nul: bool = False) -> bytes:
    # A line break would end the field early and inject whatever follows as new fields; an
    # id with NULL is ignored by the client (standard, "id" field), so the id would be lost.
    if "\n" in value or "\r" in value or (not allow_nul and "\0" in value):
        raise ValueError(
            f"SSE {name} {value[:80]!r} contains a line break"
            + ("" if allow_nul else " or NULL")
            + "; use an id from make_event_id() or a name without control characters"
        )
    return value.encode()


def _retry_value(retry_ms: int) -> bytes:
    if type(retry_ms) is not int or retry_ms < 0:
        raise ValueError(f"retry_ms must be a whole number of milliseconds >= 0, not {retry_ms!r}")
    return str(retry_ms).encode()


# ---------------------------------------------------------------------------------------
# Event ids that encode their stream (basic/transports, "Resumability and Redelivery")
# ---------------------------------------------------------------------------------------

#: The longest stream id `make_event_id` takes: URL-safe characters (A-Z a-z 0-9 _ -).
MAX_STREAM_ID_LENGTH: Final = 128
_MAX_SEQ: Final = 2**63 - 1  # fits a signed 64-bit column of any event store
#: The longest event id `parse_event_id` reads; anything longer is refused unread.
MAX_EVENT_ID_LENGTH: Final = MAX_STREAM_ID_LENGTH + 1 + len(str(_MAX_SEQ))
_STREAM_ID: Final = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_STREAM_ID_LENGTH}}}")
# '.' is not a URL-safe token character, so the last '.' splits an id unambiguously; the
# sequence number is canonical (no sign, no leading zero) so that one event has one id.
_EVENT_ID: Final = re.compile(
    rf"([A-Za-z0-9_-]{{1,{MAX_STREAM_ID_LENGTH}}})\.(0|[1-9][0-9]{{0,18}})"
)


def make_event_id(stream_id: str, seq: int) -> str:
    """The SSE id of the `seq`-th event of stream `stream_id`: "<stream_id>.<seq>".

    The spec asks event ids to identify their stream, so that a `Last-Event-ID` resumes
    exactly that stream and never replays another one's messages.
    """
    if not _STREAM_ID.fullmatch(stream_id):
        raise ValueError(
            f"stream id {stream_id[:160]!r} must be 1 to {MAX_STREAM_ID_LENGTH} URL-safe "
            "characters (A-Z, a-z, 0-9, '_', '-'), such as secrets.token_urlsafe(16)"
        )
    if type(seq) is not int or not 0 <= seq <= _MAX_SEQ:
        raise ValueError(f"event sequence number must be an int from 0 to 2**63-1, not {seq!r}")
    return stream_id + "." + str(seq)


def parse_event_id(text: str) -> tuple[str, int] | None:
    """`(stream_id, seq)` from an id `make_event_id` made, or None for anything else.

    The text comes from a client's `Last-Event-ID` header, so it may be anything: this never
    raises, reads at most MAX_EVENT_ID_LENGTH characters, and accepts only canonical ids.
    """
    if len(text) > MAX_EVENT_ID_LENGTH:
        return None
    match = _EVENT_ID.fullmatch(text)
    if match is None:
        return None
    seq = int(match[2])
    return (match[1], seq) if seq <= _MAX_SEQ else None
