"""Server-sent events, sans-I/O, the client side: an incremental parser of an event stream,
bytes in, `SSEEvent`s out.

Apart from `mcpkit.transports.sse` (encoding, event ids) because only clients parse: the
server's answer path loads and runs the encoder alone. The rules are the WHATWG HTML
standard's "Server-sent events" section (9.2, "Parsing an event stream" and "Interpreting an
event stream").
"""

from __future__ import annotations

from typing import Final

import msgspec

from mcpkit.errors import RemoteProtocolError
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.transports.sse import LINE_END

__all__ = ["SSEEvent", "SSEParser"]

_BOM: Final = b"\xef\xbb\xbf"
# The standard sets no upper bound on `retry`; a value past an unsigned 64-bit integer (half
# a billion years) is ignored rather than converted, since int() of megabytes of digits is
# slow and Python refuses more than 4,300 digits.
_MAX_RETRY_DIGITS: Final = 20
_MAX_RETRY: Final = 2**64 - 1


class SSEEvent(msgspec.Struct, frozen=True):
    """One dispatched event.

    `id` is the stream's last event id when the event was dispatched (an event without an
    `id` field carries the previous one, as the standard says); `retry` is the reconnection
    time a `retry` field in this event's block set, or None. A `msgspec.Struct`, like the
    session's events: one is built per message, and a Struct is quick to build.
    """

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEParser:
    """An incremental event-stream parser: bytes in, `SSEEvent`s out.

    `last_event_id` (send it as `Last-Event-ID` when reconnecting) and `retry` (the
    reconnection time in milliseconds, None until the server sets one) outlive a stream:
    after `feed_eof()` the same parser reads the next connection's stream.

    Memory stays bounded: a line, or the data of one event, longer than `max_event_size`
    bytes raises `RemoteProtocolError`; the stream is then unusable until `feed_eof()`. The
    events a chunk completed before such a line are returned first, and the error is raised
    by the next call (`feed_eof()` included), so no good message is lost with the bad line.
    """

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.max_event_size = max_event_size
        self.last_event_id = ""
        self.retry: int | None = None
        self._failed: str | None = None
        self._failure_raised = False
        self._reset_stream()

    def _reset_stream(self) -> None:
        self._at_start = True  # a BOM is ignored only here
        self._head = b""  # the first bytes, held until they show whether a BOM starts them
        self._skip_lf = False  # the last chunk ended in CR: an LF next completes a CRLF
        # The unfinished line; a bytearray grows in place, so a line dribbled in byte by byte
        # costs its length, not an object per byte.
        self._pending = bytearray()
        self._reset_event()
        # An undispatched id is pending data too (standard: discarded at end of file).
        self._id_buffer = self.last_event_id

    def _reset_event(self) -> None:
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._event_retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse the next bytes of the stream; return the events they complete."""
        if self._failed is not None:
            self._failure_raised = True
            raise RemoteProtocolError(self._failed)
        if self._at_start:
            chunk = self._strip_bom(chunk)
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        if 10 not in chunk and 13 not in chunk:  # no LF, no CR: the line goes on
            self._hold(chunk)
            return []
        if self._pending:
            chunk = bytes(self._pending) + chunk
            self._pending = bytearray()
        return self._read_lines(chunk)

    def _read_lines(self, chunk: bytes) -> list[SSEEvent]:
        # `chunk` holds at least one line end; what follows the last one is held for later.
        lines = LINE_END.split(chunk) if 13 in chunk else chunk.split(b"\n")
        rest = lines.pop()
        self._skip_lf = chunk[-1] == 0x0D
        events: list[SSEEvent] = []
        try:
            for line in lines:
                if line:
                    self._line(line)
                else:
                    self._dispatch(events)  # a blank line ends the event
            self._hold(rest)
        except RemoteProtocolError:
            if not events:
                raise
            self._failure_raised = False  # deferred: these events first, the error next call
        return events

    def feed_eof(self) -> None:
        """The stream ended: an event not yet ended by a blank line is discarded (standard:
        "If the file ends in the middle of an event ... the incomplete event is not
        dispatched"); the parser is ready for the next connection's stream.

        Raises `RemoteProtocolError` if the stream broke a limit that no call has reported yet.
        """
        failed, self._failed = self._failed, None
        unreported, self._failure_raised = not self._failure_raised, False
        self._reset_stream()
        if failed is not None and unreported:
            raise RemoteProtocolError(failed)

    def _strip_bom(self, chunk: bytes) -> bytes:
        head = self._head + chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head  # maybe a BOM split across chunks: wait for more
            return b""
        self._at_start = False
        self._head = b""
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _hold(self, piece: bytes) -> None:
        if piece:
            if len(self._pending) + len(piece) > self.max_event_size:
                self._fail("line")
            self._pending += piece

    def _fail(self, what: str) -> None:
        self._failed = (
            f"the server sent an SSE {what} longer than {self.max_event_size} bytes "
            "(max_event_size); the stream was abandoned"
        )
        self._failure_raised = True
        self._pending = bytearray()
        self._reset_event()
        raise RemoteProtocolError(self._failed)

    def _line(self, raw: bytes) -> None:
        if len(raw) > self.max_event_size:
            self._fail("line")
        # Invalid UTF-8 becomes U+FFFD (the standard decodes the stream with replacement).
        line = raw.decode("utf-8", "replace")
        if line[0] == ":":
            return  # a comment
        # No colon: the whole line is a field name with an empty value. One space after the
        # colon is part of the syntax, not of the value (standard, "Interpreting").
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        self._field(name, value)

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data_size += len(value) + 1
            if self._data_size > self.max_event_size:
                self._fail("event")
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            # An id with NULL is ignored, and an empty one resets the id (standard, "id").
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry":
            self._set_retry(value)
        # Any other field name is ignored (standard: "Otherwise: The field is ignored").

    def _set_retry(self, value: str) -> None:
        # Only ASCII digits count ("retry: 1e3", "retry: -1", "retry: ٣" are ignored).
        if value and value.isascii() and value.isdigit():
            digits = value.lstrip("0") or "0"
            if len(digits) <= _MAX_RETRY_DIGITS and int(digits) <= _MAX_RETRY:
                self.retry = self._event_retry = int(digits)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        # The standard sets the last event id before it looks at the data: a block with an
        # `id` and no `data` dispatches nothing, yet is where a reconnection resumes from.
        self.last_event_id = self._id_buffer
        if self._data:
            # Each data line was followed by LF and the last LF is removed: a join by LF.
            data = "\n".join(self._data)
            event = self._event_type or "message"
            events.append(SSEEvent(data, event, self.last_event_id, self._event_retry))
        self._reset_event()
