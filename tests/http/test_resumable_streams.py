"""A session's resumable streams as an object of their own (`ResumableStreams`), with plain
calls: what it needs of its session is only its id and revision (`Numbering`), and its clock
and retention its own, so it works, and is tested, with no channel around it."""

from __future__ import annotations

from dataclasses import dataclass

from mcpkit.transports.deployment.app_settings import AppSettings
from mcpkit.transports.http.checks import Refusal
from mcpkit.transports.http.sse_stream import Stream, StreamSettings
from mcpkit.transports.http.stream_storing import session_tag
from mcpkit.transports.http.streams import MAX_RETAINED, HttpChannel, ResumableStreams


@dataclass
class _Session:
    session_id: str | None = "session-1"
    revision: str | None = "2025-11-25"


def _streams(now: list[float]) -> ResumableStreams:
    settings = AppSettings(replay_window=256, keepalive_interval=None).streams(
        relayed=False, queued=None
    )
    return ResumableStreams(settings, lambda: now[0], _Session())


async def test_a_stream_numbered_let_go_and_found_again_by_its_last_event_id() -> None:
    now = [10.0]
    streams = _streams(now)
    stream = Stream()
    streams.number(stream, [7])
    assert stream.id is not None and stream.id.startswith(session_tag("session-1"))
    assert stream.primed  # the revision said so: a priming event first
    await stream.put(b"answer")
    stream.end()
    stream.detach()
    now[0] = 12.0
    assert streams.release(stream, delivered=False) is None  # kept, nothing to forget now
    assert streams.released_at == 12.0  # its own record of the session's activity
    assert streams.resumable([f"{stream.id}.1".encode()]) == (stream, 1)
    assert streams.close() == [stream.id]  # the session ended: its events for the store to forget
    assert stream.storing is None
    assert isinstance(streams.resumable([f"{stream.id}.1".encode()]), Refusal)


async def test_the_oldest_retained_stream_is_forgotten_past_max_retained() -> None:
    streams = _streams([0.0])
    kept = []
    for request_id in range(MAX_RETAINED + 1):
        stream = Stream()
        streams.number(stream, [request_id])
        assert stream.offer(b"x", True)
        assert stream.whole() is not None  # taken whole by its connection
        streams.release(stream, delivered=True)
        kept.append(stream)
    oldest, newest = kept[0], kept[-1]
    assert isinstance(streams.resumable([f"{oldest.id}.1".encode()]), Refusal)
    assert oldest.storing is None and oldest.replay_held == 0
    assert streams.resumable([f"{newest.id}.1".encode()]) == (newest, 1)
    streams.close()


async def test_a_channel_is_idle_since_its_last_activity_or_its_last_stream_let_go() -> None:
    now = [100.0]
    channel = HttpChannel(settings=StreamSettings(), clock=lambda: now[0])
    stream = await channel.streams.open_stream()
    assert stream is not None and channel.idle_since is None  # a GET stream connected
    stream.detach()
    now[0] = 150.0
    await channel.release(stream, delivered=False)
    assert channel.idle_since == 150.0  # the stream's release, kept by the streams
    now[0] = 160.0
    channel.touch()
    assert channel.idle_since == 160.0  # then the channel's own activity
    await channel.aclose()
