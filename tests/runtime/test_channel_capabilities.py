"""A channel's optional methods are capabilities of their own (`mcpkit.runtime.channel`),
told with `isinstance`: a channel may have any of them, and lacks the rest."""

from __future__ import annotations

from mcpkit.runtime.channel import (
    ClosesStreams,
    MessageChannel,
    RoutedChannel,
    SendsRouted,
    extras_of,
)
from mcpkit.transports.memory import memory_channel_pair
from mcpkit.types import RequestId


class Plain:
    async def receive(self) -> bytes:
        return b""

    async def send(self, data: bytes) -> None:
        pass

    async def aclose(self) -> None:
        pass


class SomeRouting(Plain):
    """Routes its sends and closes streams, and has none of the other optional methods."""

    writable = False

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        pass

    def close_stream(self, related: RequestId, retry_ms: int | None = None) -> bool:
        return True


def test_a_channel_has_the_capabilities_it_implements_and_no_others() -> None:
    plain, some = Plain(), SomeRouting()
    assert isinstance(plain, MessageChannel) and not isinstance(plain, SendsRouted)
    assert isinstance(some, SendsRouted) and isinstance(some, ClosesStreams)
    assert not isinstance(some, RoutedChannel)  # all of them together
    extras = extras_of(some)
    assert extras.send_routed == some.send_routed and extras.close_stream == some.close_stream
    assert extras.body_read is None and extras.receive_with_info is None
    assert extras.deliver_to is None and extras.session_id is None
    assert extras.writable is False and extras.legacy_only is False
    nothing = extras_of(plain)
    assert nothing.send_routed is None and nothing.writable is True


def test_the_memory_channel_is_plain() -> None:
    a, _ = memory_channel_pair()
    extras = extras_of(a)
    assert extras.send_routed is None and extras.deliver_to is None
    assert extras.writable is True  # until it is closed
