"""The Streamable HTTP client is made of parts it holds, each with its own state
(docs' STYLE habit: an object holds its collaborators, it does not inherit them): the
requests to the endpoint, the follower of its streams, the renewal of a forgotten session."""

from __future__ import annotations

import pytest

from mcpkit.transports.http_client._endpoint_requests import EndpointRequests
from mcpkit.transports.http_client._follow import StreamFollower
from mcpkit.transports.http_client._renewal import Renewal
from mcpkit.transports.http_client.transport import StreamableHttpTransport


@pytest.mark.parametrize(
    "part", [StreamableHttpTransport, EndpointRequests, StreamFollower, Renewal]
)
def test_each_part_is_a_class_of_its_own(part: type) -> None:
    # Before: StreamableHttpTransport(StreamFollower(EndpointRequests)), one class in three
    # files whose follower read an inbox set by the transport's __init__.
    assert part.__mro__ == (part, object)


async def test_the_transport_reads_its_session_from_the_endpoint_requests() -> None:
    transport = StreamableHttpTransport("http://127.0.0.1:9/mcp", max_message_size=1234)
    transport.speak_modern("2026-07-28", lambda method, params: {})
    assert transport.protocol_version == "2026-07-28"
    assert transport.session_id is None
    transport.open(max_message_size=99)  # a size given to the transport wins over the Client's
    assert transport.max_message_size == 1234
    transport.speak_sessions()
    assert transport.protocol_version is None
    await transport.aclose()
