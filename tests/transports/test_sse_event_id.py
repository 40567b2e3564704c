"""Event ids name their stream (transports, "Resumability and Redelivery"): the codec round-trips
and refuses every malformed `Last-Event-ID` a client may send, without raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpkit.transports.sse import (
    MAX_EVENT_ID_LENGTH,
    MAX_STREAM_ID_LENGTH,
    make_event_id,
    parse_event_id,
)

URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
stream_ids = st.text(st.sampled_from(URL_SAFE), min_size=1, max_size=MAX_STREAM_ID_LENGTH)
seqs = st.integers(min_value=0, max_value=2**63 - 1)


@given(stream_ids, seqs)
def test_round_trip(stream_id: str, seq: int) -> None:
    event_id = make_event_id(stream_id, seq)
    assert len(event_id) <= MAX_EVENT_ID_LENGTH
    assert parse_event_id(event_id) == (stream_id, seq)


def test_the_stream_is_what_comes_before_the_dot() -> None:
    assert make_event_id("Xk3_9-a", 0) == "Xk3_9-a.0"
    assert parse_event_id("Xk3_9-a.17") == ("Xk3_9-a", 17)
    assert parse_event_id("-.9223372036854775807") == ("-", 2**63 - 1)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".5",
        "abc.-1",
        "abc.+1",
        "abc.01",
        "abc.1.2",
        "a.b.3",
        "abc. 1",
        "abc.1 ",
        " abc.1",
        "abc.1\n",
        "abc.1\x00",
        "ab/c.1",
        "ab=.1",
        "ab c.1",
        "abc.1e3",
        "abc.0x10",
        "abc.\u0663",  # an Arabic-Indic digit: int() would take it
        "\u0430bc.1",  # a Cyrillic 'a'
        "abc.9223372036854775808",  # 2**63
        "abc.99999999999999999999",
        "a" * (MAX_STREAM_ID_LENGTH + 1) + ".1",
        "a" * 10_000_000 + ".1",
        "1" * 10_000_000,
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    assert parse_event_id(garbage) is None


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_never_raises(text: str) -> None:
    parsed = parse_event_id(text)
    if parsed is not None:
        assert make_event_id(*parsed) == text  # only canonical ids are accepted


@pytest.mark.parametrize(
    "stream_id", ["", "a.b", "a b", "a/b", "é", "a" * (MAX_STREAM_ID_LENGTH + 1)]
)
def test_make_refuses_a_stream_id_that_is_no_url_safe_token(stream_id: str) -> None:
    with pytest.raises(ValueError, match="URL-safe"):
        make_event_id(stream_id, 1)


@pytest.mark.parametrize("seq", [-1, 2**63, True, 1.0])
def test_make_refuses_a_sequence_number_out_of_range(seq: object) -> None:
    with pytest.raises(ValueError, match="sequence number"):
        make_event_id("s", seq)  # type: ignore[arg-type]  # the point: a wrong type is refused
