"""The newline framing shared by both stdio ends: plain calls, no I/O."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.transports._lines import HIGH_WATER, LOW_WATER, LineBuffer


def drain(buffer: LineBuffer) -> list[bytes]:
    out = []
    while buffer.lines:
        out.append(buffer.pop())
    return out


def test_whole_lines_in_one_chunk() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b'{"a":1}\n{"b":2}\n')
    assert drain(buffer) == [b'{"a":1}', b'{"b":2}']
    assert buffer.queued == 0


def test_a_line_split_over_many_chunks() -> None:
    buffer = LineBuffer(100)
    for piece in (b'{"a"', b":", b'1}\n{"b', b'":2}', b"\n"):
        buffer.feed(piece)
    assert drain(buffer) == [b'{"a":1}', b'{"b":2}']


def test_blank_and_whitespace_lines_are_skipped() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b"\n\n  \n\t\r\n")
    buffer.feed(b'{"a":1}\n\n')
    buffer.feed(b"   ")
    buffer.feed(b"\n")
    assert drain(buffer) == [b'{"a":1}']


def test_a_crlf_line_keeps_its_carriage_return_which_json_ignores() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b'{"a":1}\r\n')
    assert drain(buffer) == [b'{"a":1}\r']


@pytest.mark.parametrize("size", [99, 100])
def test_lines_up_to_the_limit_pass_whole(size: int) -> None:
    buffer = LineBuffer(100)
    line = b"x" * size
    buffer.feed(line + b"\n")
    assert drain(buffer) == [line]


def test_an_oversize_line_in_one_chunk_is_cut_to_limit_plus_one() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b"y" * 500 + b'\n{"next":1}\n')
    assert drain(buffer) == [b"y" * 101, b'{"next":1}']


def test_an_oversize_line_over_many_chunks_is_never_held_whole() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b"a" * 60)
    assert not buffer.lines
    buffer.feed(b"b" * 60)  # now over the limit: the head is queued at once
    assert drain(buffer) == [b"a" * 60 + b"b" * 41]
    for _ in range(100):
        buffer.feed(b"c" * 1000)  # the rest of the line is dropped as it arrives
    assert not buffer.lines
    assert buffer._partial_len == 0
    buffer.feed(b'ccc\n{"next":1}\n')
    assert drain(buffer) == [b'{"next":1}']


def test_an_oversize_tail_is_cut_before_its_newline_arrives() -> None:
    buffer = LineBuffer(10)
    buffer.feed(b'{"a":1}\n' + b"z" * 50)
    assert drain(buffer) == [b'{"a":1}', b"z" * 11]
    buffer.feed(b"zz\nok\n")
    assert drain(buffer) == [b"ok"]


def test_a_last_line_without_newline_counts_at_eof() -> None:
    buffer = LineBuffer(100)
    buffer.feed(b'{"a":1}\n{"b":')
    buffer.feed(b"2}")
    buffer.feed_eof()
    assert drain(buffer) == [b'{"a":1}', b'{"b":2}']
    assert buffer.eof


def test_reading_pauses_above_high_water_and_resumes_below_low_water() -> None:
    buffer = LineBuffer(HIGH_WATER)
    calls: list[str] = []
    buffer.pause = lambda: calls.append("pause")
    buffer.resume = lambda: calls.append("resume")
    line = b"x" * 1023 + b"\n"
    buffer.feed(line * (HIGH_WATER // 1024))
    assert calls == []
    buffer.feed(line * 2)
    assert calls == ["pause"]
    buffer.feed(line)  # still paused: no second pause
    while buffer.queued > LOW_WATER + 1023:
        buffer.pop()
    assert calls == ["pause"]
    buffer.pop()
    assert calls == ["pause", "resume"]


def test_discard_drops_everything_and_resumes() -> None:
    buffer = LineBuffer(HIGH_WATER)
    calls: list[str] = []
    buffer.pause = lambda: calls.append("pause")
    buffer.resume = lambda: calls.append("resume")
    buffer.feed((b"x" * 1023 + b"\n") * (HIGH_WATER // 1024 + 2))
    buffer.discard()
    assert calls == ["pause", "resume"]
    assert not buffer.lines and buffer.eof
    buffer.feed(b"more\n")
    assert not buffer.lines


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LineBuffer(0)


async def test_wait_wakes_on_a_line_and_on_eof() -> None:
    buffer = LineBuffer(100)
    loop = asyncio.get_running_loop()
    loop.call_soon(buffer.feed, b"partial")
    loop.call_soon(buffer.feed, b" line\n")
    async with asyncio.timeout(5):
        await buffer.wait()
    assert buffer.pop() == b"partial line"
    loop.call_soon(buffer.feed_eof)
    async with asyncio.timeout(5):
        await buffer.wait()
    assert buffer.eof and not buffer.lines


async def test_only_one_task_may_wait() -> None:
    buffer = LineBuffer(100)
    waiter = asyncio.ensure_future(buffer.wait())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await buffer.wait()
    buffer.feed_eof()
    async with asyncio.timeout(5):
        await waiter
