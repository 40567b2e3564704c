"""SSE encoding and parsing follow the WHATWG standard's rules, checked with its own examples
and with every line-ending form and chunk split; all plain calls."""

from __future__ import annotations

import pytest

from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.transports.sse import (
    encode_comment,
    encode_event,
    encode_priming,
    encode_retry,
    encode_stream,
)
from mcpkit.transports.sse_parser import SSEEvent, SSEParser


def parse(stream: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events = parser.feed(stream)
    parser.feed_eof()
    return events


def parse_bytewise(stream: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for i in range(len(stream)):
        events += parser.feed(stream[i : i + 1])
    parser.feed_eof()
    return events


# The standard's examples (HTML, 9.2.5 "Event stream format" and 9.2.6).


def test_multiline_data_is_joined_with_lf() -> None:
    assert parse(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [SSEEvent("YHOO\n+2\n10")]


def test_ids_stick_until_reset_and_one_space_is_stripped() -> None:
    stream = (
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n"
    )
    assert parse(stream) == [
        SSEEvent("first event", id="1"),
        SSEEvent("second event", id=""),
        SSEEvent(" third event", id=""),
    ]


def test_empty_data_fires_and_an_unfinished_block_does_not() -> None:
    assert parse(b"data\n\ndata\ndata\n\ndata:") == [SSEEvent(""), SSEEvent("\n")]


def test_with_or_without_the_space_the_data_is_the_same() -> None:
    assert parse(b"data:test\n\ndata: test\n\n") == [SSEEvent("test"), SSEEvent("test")]


# Line ends, chunk splits, BOM.

STREAM = b"event: add\ndata: 73857293\n\nid: 7\ndata: a\ndata:\n\n: c\nretry: 250\ndata: z\n\n"
EXPECTED = [
    SSEEvent("73857293", event="add"),
    SSEEvent("a\n", id="7"),
    SSEEvent("z", id="7", retry=250),
]


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
def test_every_line_end_and_every_split(end: bytes) -> None:
    stream = STREAM.replace(b"\n", end)
    assert parse(stream) == EXPECTED
    assert parse_bytewise(stream) == EXPECTED
    for cut in range(len(stream) + 1):
        parser = SSEParser()
        assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) == EXPECTED


def test_mixed_line_ends_and_crlf_split_across_chunks() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    # The LF completes the CRLF: it is not a blank line that would dispatch the event.
    assert parser.feed(b"\ndata: b\r") == []
    assert parser.feed(b"\n\r") == [SSEEvent("a\nb")]
    assert parser.feed(b"\n") == []  # the CRLF of the blank line, not a second blank line
    assert parser.feed(b"data: c\n\r\n") == [SSEEvent("c")]


def test_cr_then_cr_is_two_line_ends() -> None:
    assert parse(b"data: a\r\rdata: b\r\r") == [SSEEvent("a"), SSEEvent("b")]


def test_one_leading_bom_is_ignored_even_split_across_chunks() -> None:
    bom = b"\xef\xbb\xbf"
    assert parse(bom + b"data: x\n\n") == [SSEEvent("x")]
    assert parse_bytewise(bom + b"data: x\n\n") == [SSEEvent("x")]
    # A second BOM starts the first line's name, which is then no known field.
    assert parse(bom + bom + b"data: x\n\n") == []
    assert parse(b"data: x\n\n" + bom + b"data: y\n\n") == [SSEEvent("x")]
    # Two bytes of a BOM are no BOM: they decode to U+FFFD inside the field name.
    assert parse(b"\xef\xbbdata: x\n\n") == []
    assert parse(b"\xef\xbb\ndata: x\n\n") == [SSEEvent("x")]


def test_a_short_stream_that_could_start_a_bom_is_not_lost() -> None:
    parser = SSEParser()
    assert parser.feed(b"\n") == []
    assert parser.feed(b"data: x\n\n") == [SSEEvent("x")]


# Fields.


def test_comments_and_unknown_fields_are_ignored() -> None:
    stream = b":\n: hi\nfoo: bar\nDATA: no\ndata : no\nid: 3\ndata: yes\n\n"
    assert parse(stream) == [SSEEvent("yes", id="3")]


def test_a_field_with_no_colon_has_an_empty_value() -> None:
    assert parse(b"event\ndata\n\n") == [SSEEvent("")]  # empty event type means "message"
    assert parse(b"data: a:b: c\n\n") == [SSEEvent("a:b: c")]


@pytest.mark.parametrize("value", [b"1e3", b"-1", b"+5", b"  5", b"5 ", b"", b"\xd9\xa3", b"1.5"])
def test_retry_with_anything_but_ascii_digits_is_ignored(value: bytes) -> None:
    parser = SSEParser()
    assert parser.feed(b"retry: 100\n\nretry:" + value + b"\ndata: x\n\n") == [SSEEvent("x")]
    assert parser.retry == 100


def test_retry_digits_are_read_as_decimal() -> None:
    parser = SSEParser()
    assert parser.feed(b"retry: 0042\ndata: x\n\n") == [SSEEvent("x", retry=42)]
    assert parser.retry == 42
    assert parser.feed(b"retry: " + b"9" * 30 + b"\n\n") == []  # past 64 bits: ignored
    assert parser.retry == 42


def test_an_id_with_null_is_ignored() -> None:
    parser = SSEParser()
    events = parser.feed(b"id: 1\ndata: a\n\nid: 2\x00x\ndata: b\n\n")
    assert events == [SSEEvent("a", id="1"), SSEEvent("b", id="1")]
    assert parser.last_event_id == "1"


def test_an_id_is_committed_by_a_blank_line_even_without_data() -> None:
    parser = SSEParser()
    assert parser.feed(b"id: 5\n\n") == []
    assert parser.last_event_id == "5"
    assert parser.feed(b"id: 6\ndata: x") == []
    parser.feed_eof()  # the unfinished block is discarded, its id with it
    assert parser.last_event_id == "5"
    assert parser.feed(b"data: y\n\n") == [SSEEvent("y", id="5")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    events = parse(b"data: \xff\xfe ok \xe2\x82\ndata: \xc3\xa9\n\n")
    assert events == [SSEEvent("\ufffd\ufffd ok \ufffd\n\u00e9")]


def test_a_multibyte_character_split_across_chunks_is_kept() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: \xe2\x82") == []
    assert parser.feed(b"\xac\n\n") == [SSEEvent("\u20ac")]


def test_feed_eof_readies_the_parser_for_the_next_connection() -> None:
    parser = SSEParser()
    parser.feed(b"retry: 3000\nid: s.1\ndata: a\n\ndata: half")
    parser.feed_eof()
    assert (parser.last_event_id, parser.retry) == ("s.1", 3000)
    # The next stream may open with a BOM again; the half line is gone.
    assert parser.feed(b"\xef\xbb\xbfdata: b\n\n") == [SSEEvent("b", id="s.1")]


def test_the_default_limit_is_the_message_size_limit() -> None:
    assert SSEParser().max_event_size == DEFAULT_MAX_MESSAGE_SIZE


# Encoding.


def test_encode_event_with_id_is_one_data_line() -> None:
    data = b'{"jsonrpc":"2.0","id":1,"result":{}}'
    assert encode_event(data, event_id="s.1") == b"id: s.1\ndata: " + data + b"\n\n"
    assert encode_event(data) == b"data: " + data + b"\n\n"
    assert parse(encode_event(data, event_id="s.1")) == [SSEEvent(data.decode(), id="s.1")]


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        (b"", ""),
        (b"a\nb", "a\nb"),
        (b"a\r\nb\rc", "a\nb\nc"),
        (b"\n", "\n"),
        (b"x\n\n", "x\n\n"),
        (b" lead", " lead"),
        (b"\r\n", "\n"),
    ],
)
def test_any_data_is_split_into_lines_that_parse_back(data: bytes, parsed: str) -> None:
    stream = encode_event(data, event_id="s.2", event="note", retry_ms=10)
    assert parse(stream) == [SSEEvent(parsed, event="note", id="s.2", retry=10)]


def test_a_stream_written_whole_is_its_events_one_by_one() -> None:
    events = [(1, b'{"a":1}'), (2, b""), (3, b"a\nb"), (4, b"x\r"), (5, b"\r\n")]
    one_by_one = b"".join(encode_event(data, event_id=f"s_1.{seq}") for seq, data in events)
    assert encode_stream("s_1", events) == one_by_one
    assert encode_stream("s_1", events, priming=True) == encode_priming("s_1.0") + one_by_one
    assert encode_stream(None, events) == b"".join(encode_event(data) for _, data in events)
    # Those the client has (numbered up to `after`) are left out.
    assert encode_stream("s_1", events, after=3) == one_by_one[one_by_one.index(b"id: s_1.4") :]
    assert encode_stream(None, events, after=5) == b""
    assert [event.id for event in parse(encode_stream("s_1", events, priming=True))] == [
        f"s_1.{n}" for n in range(6)
    ]


def test_a_stream_id_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_stream("s\nid: evil", [(1, b"{}")])


def test_priming_event_carries_an_id_and_empty_data() -> None:
    parser = SSEParser()
    assert parser.feed(encode_priming("abc.0")) == [SSEEvent("", id="abc.0")]
    assert parser.last_event_id == "abc.0"
    assert parser.feed(encode_priming("abc.1", retry_ms=500)) == [
        SSEEvent("", id="abc.1", retry=500)
    ]
    assert parser.retry == 500


def test_retry_only_event_sets_the_delay_and_dispatches_nothing() -> None:
    parser = SSEParser()
    parser.feed(b"id: q.4\ndata: m\n\n")
    assert encode_retry(2500) == b"retry: 2500\n\n"
    assert parser.feed(encode_retry(2500)) == []
    assert (parser.retry, parser.last_event_id) == (2500, "q.4")


def test_comments_are_ignored_by_the_parser() -> None:
    assert encode_comment() == b":\n"
    assert encode_comment("keep-alive") == b": keep-alive\n"
    assert encode_comment("a\r\nb") == b": a\n: b\n"
    stream = encode_comment("ping\ndata: injected") + b"data: real\n\n"
    assert parse(stream) == [SSEEvent("real")]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b"])
def test_an_id_that_would_break_the_stream_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="event_id"):
        encode_event(b"x", event_id=bad)
    with pytest.raises(ValueError, match="event_id"):
        encode_priming(bad)


def test_an_event_name_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="event"):
        encode_event(b"x", event="a\ndata: injected")
    assert parse(encode_event(b"x", event="a\x00b")) == [SSEEvent("x", event="a\x00b")]


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10"])
def test_retry_must_be_whole_milliseconds(bad: object) -> None:
    with pytest.raises(ValueError, match="retry_ms"):
        encode_retry(bad)  # type: ignore[arg-type]  # the point: a wrong type is refused
    with pytest.raises(ValueError, match="retry_ms"):
        encode_event(b"x", retry_ms=bad)  # type: ignore[arg-type]  # the same
