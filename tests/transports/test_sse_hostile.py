"""What a broken or malicious SSE server sends: random bytes in random chunks parse exactly as
the standard's algorithm run over the whole stream, and no input grows memory without bound."""

from __future__ import annotations

import gc
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.errors import McpkitError, RemoteProtocolError
from mcpkit.transports.sse import encode_event
from mcpkit.transports.sse_parser import SSEEvent, SSEParser

# ---------------------------------------------------------------------------------------
# A reference: the standard's algorithm read literally, over the whole stream at once.
# ---------------------------------------------------------------------------------------


def reference(stream: bytes) -> list[SSEEvent]:
    text = stream.decode("utf-8", "replace").removeprefix("\ufeff")
    *lines, _unfinished = re.split("\r\n|\r|\n", text)  # the last line has no end: discarded
    events: list[SSEEvent] = []
    data, event_type, id_buffer, last_id, retry = "", "", "", "", None
    for line in lines:
        if line == "":
            last_id = id_buffer
            if data:
                events.append(SSEEvent(data[:-1], event_type or "message", last_id, retry))
            data, event_type, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":") if ":" in line else (line, "", "")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data += value + "\n"
        elif name == "event":
            event_type = value
        elif name == "id" and "\0" not in value:
            id_buffer = value
        elif name == "retry" and re.fullmatch("[0-9]+", value) and int(value) < 2**64:
            retry = int(value)
    return events


def feed_in_chunks(
    stream: bytes, cuts: list[int], parser: SSEParser | None = None
) -> list[SSEEvent]:
    parser = parser or SSEParser()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*sorted({min(c, len(stream)) for c in cuts}), len(stream)]:
        events += parser.feed(stream[start:cut])
        start = cut
    parser.feed_eof()
    return events


# Bytes that hit every rule: line ends, colons, spaces, field names, NUL, digits, a BOM and
# broken UTF-8 pieces, in any order.
PIECES = [
    b"\r", b"\n", b"\r\n", b":", b" ", b"data", b"event", b"id", b"retry", b"\x00", b"7",
    b"12", b"x", b"\xef\xbb\xbf", b"\xef", b"\xff", b"\xc3\xa9", b"\xe2\x82", b"\xac",
]  # fmt: skip
streams = st.lists(st.sampled_from(PIECES) | st.binary(max_size=4), max_size=60).map(b"".join)
cuts = st.lists(st.integers(min_value=0, max_value=300), max_size=12)


@settings(max_examples=400, deadline=None)
@given(streams, cuts)
def test_any_bytes_in_any_chunks_parse_as_the_whole_stream_does(
    stream: bytes, chunk_cuts: list[int]
) -> None:
    assert feed_in_chunks(stream, chunk_cuts) == reference(stream)


# A lone surrogate is no UTF-8 text: encoding it raises UnicodeEncodeError (a ValueError).
field_text = st.text(
    st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)), max_size=10
)
events_strategy = st.lists(
    st.tuples(
        st.text(max_size=30),  # any data, line breaks included
        st.none() | field_text,  # id
        st.none() | field_text,  # event name
        st.none() | st.integers(min_value=0, max_value=10**12),  # retry
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(events_strategy, cuts, st.sampled_from([b"\n", b"\r", b"\r\n"]))
def test_encoded_events_parse_back_in_any_chunks_with_any_line_end(
    sent: list[tuple[str, str | None, str | None, int | None]],
    chunk_cuts: list[int],
    end: bytes,
) -> None:
    stream = b"".join(
        encode_event(data.encode(), event_id=id_, event=name, retry_ms=retry)
        for data, id_, name, retry in sent
    )
    # The encoder writes LF; any data line break became a line of its own, so every LF in
    # the stream is a line end and may be rewritten as CR or CRLF.
    stream = stream.replace(b"\n", end)
    last_id = ""
    expected: list[SSEEvent] = []
    for data, id_, name, retry in sent:
        last_id = last_id if id_ is None else id_
        expected.append(SSEEvent(re.sub("\r\n|\r", "\n", data), name or "message", last_id, retry))
    assert feed_in_chunks(stream, chunk_cuts) == expected


@settings(max_examples=200, deadline=None)
@given(streams, cuts)
def test_a_small_limit_only_ever_raises_remote_protocol_error(
    stream: bytes, chunk_cuts: list[int]
) -> None:
    parser = SSEParser(max_event_size=8)
    try:
        feed_in_chunks(stream, chunk_cuts, parser)
    except RemoteProtocolError as exc:
        assert "max_event_size" in str(exc)


# ---------------------------------------------------------------------------------------
# Bounded memory.
# ---------------------------------------------------------------------------------------

LIMIT = 1 << 20
CHUNK = 64 * 1024


def traced(run: object) -> tuple[int, int]:
    """(peak growth, growth left after) while `run()` runs."""
    assert callable(run)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before, after - before


@pytest.mark.parametrize(
    ("opening", "filler"),
    [
        (b"data: ", b"x" * CHUNK),  # one endless line
        (b"", b"data: " + b"y" * (CHUNK - 7) + b"\n"),  # endless data lines, no blank line
        (b"", b"\xff" * CHUNK),  # an endless line of invalid UTF-8
    ],
)
def test_an_endless_line_or_event_raises_and_memory_stays_bounded(
    opening: bytes, filler: bytes
) -> None:
    parser = SSEParser(max_event_size=LIMIT)
    fed = 0

    def run() -> None:
        nonlocal fed
        fed = len(opening)
        parser.feed(opening)
        with pytest.raises(RemoteProtocolError, match=r"max_event_size") as caught:
            while fed < 64 * LIMIT:  # the bound on this loop, never reached
                fed += len(filler)
                parser.feed(filler)
        assert isinstance(caught.value, McpkitError)

    peak, left = traced(run)
    assert LIMIT < fed <= LIMIT + CHUNK  # refused at the first chunk past the limit
    assert peak < 4 * LIMIT + 4 * CHUNK, f"peak {peak} bytes"  # str of a line, not of the stream
    assert left < 64 * 1024, f"kept {left} bytes after the error"
    with pytest.raises(RemoteProtocolError):  # the broken stream stays broken
        parser.feed(b"\n\ndata: z\n\n")
    parser.feed_eof()  # until it ends: then the parser reads the next connection's stream
    assert parser.feed(b"data: z\n\n") == [SSEEvent("z")]


def test_a_line_dribbled_byte_by_byte_costs_its_length() -> None:
    parser = SSEParser(max_event_size=64 * 1024)

    def run() -> None:
        parser.feed(b"data: ")
        for _ in range(60 * 1024):
            parser.feed(b"x")

    peak, _ = traced(run)
    assert peak < 4 * 64 * 1024, f"peak {peak} bytes"
    assert parser.feed(b"\n\n") == [SSEEvent("x" * 60 * 1024)]


def test_events_before_a_line_past_the_limit_are_returned_then_it_raises() -> None:
    parser = SSEParser(max_event_size=100)
    chunk = b"id: s.1\ndata: ok\n\ndata: " + b"x" * 200 + b"\n\n"
    assert parser.feed(chunk) == [SSEEvent("ok", id="s.1")]
    with pytest.raises(RemoteProtocolError, match="max_event_size"):
        parser.feed(b"data: more\n\n")
    parser.feed_eof()  # already reported: ending the stream does not raise it again
    assert parser.last_event_id == "s.1"


def test_an_unreported_failure_is_raised_when_the_stream_ends() -> None:
    parser = SSEParser(max_event_size=100)
    assert parser.feed(b"data: ok\n\ndata: " + b"x" * 200) == [SSEEvent("ok")]
    with pytest.raises(RemoteProtocolError, match="max_event_size"):
        parser.feed_eof()
    parser.feed_eof()  # the parser is ready for the next stream either way
    assert parser.feed(b"data: next\n\n") == [SSEEvent("next")]


def test_a_line_at_the_limit_is_accepted() -> None:
    parser = SSEParser(max_event_size=100)
    line = b"data: " + b"a" * 94
    assert parser.feed(line + b"\n\n") == [SSEEvent("a" * 94)]
    assert parser.feed(line[:50]) + parser.feed(line[50:] + b"\n\n") == [SSEEvent("a" * 94)]
    with pytest.raises(RemoteProtocolError):
        parser.feed(line + b"a\n\n")


def test_endless_comments_and_unknown_fields_keep_nothing() -> None:
    parser = SSEParser()
    chunk = (b": keep-alive\n" + b"x-junk: " + b"z" * 100 + b"\nretry: 1e9\n") * 100

    def run() -> None:
        for _ in range(300):  # 90,000 lines, each read and dropped
            assert parser.feed(chunk) == []

    _, left = traced(run)
    assert left < 16 * 1024, f"kept {left} bytes"


def test_many_short_events_in_one_chunk_are_all_dispatched() -> None:
    events = SSEParser().feed(b"data: x\n\n" * 10_000)
    assert len(events) == 10_000
