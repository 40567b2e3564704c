"""The connection panel's settings without a browser: what a page may send, what each target
takes, a started server's variables as part of the command to confirm, the era the hub speaks
and keeps for `mcpkit dev`'s reconnect, Ping in both eras, and a pinned HTTP transport."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _inspector_harness import SHOWCASE, serving

from mcpkit import Client, Server
from mcpkit.client.target import parse_target
from mcpkit.inspector.approval import Approvals, ConfirmationNeeded
from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.panel_settings import ConnectionSettings
from mcpkit.transports.legacy_sse.endpoint import LegacySse

URL = "http://127.0.0.1:9/mcp"


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ({"protocol": "2024-11-05"}, "protocol '2024-11-05' is not one of"),
        ({"transport": "websocket"}, "transport 'websocket' is not one of"),
        ({"timeout": "soon"}, "timeout 'soon' is not a number"),
        ({"timeout": -1}, "is not between 0"),
        ({"headers": {"Bad Name": "x"}}, "'Bad Name' is not a valid name"),
        ({"headers": {"X-Ok": "one\r\nX-Evil: two"}}, "must be one line"),
        ({"env": {"1BAD": "x"}}, "'1BAD' is not a valid name"),
        ({"env": ["A=1"]}, "env must be a JSON object"),
        ([], "settings must be a JSON object"),
    ],
)
def test_a_page_sends_only_settings_that_mean_something(sent: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        ConnectionSettings.from_json(sent)


def test_each_target_takes_its_own_settings_and_the_page_hears_no_values() -> None:
    read = ConnectionSettings.from_json(
        {"protocol": "2025-11-25", "timeout": 0, "headers": {"Authorization": "Bearer s3cret"}}
    )
    assert (read.protocol, read.transport, read.timeout) == ("2025-11-25", "auto", None)
    read.check(parse_target(URL))
    with pytest.raises(ValueError, match="headers are for a URL target"):
        read.check(parse_target(SHOWCASE))
    with pytest.raises(ValueError, match="environment variables are for a server"):
        ConnectionSettings(env={"A": "1"}).check(parse_target(URL))
    with pytest.raises(ValueError, match="stdio transport is for a file"):
        ConnectionSettings(transport="stdio").check(parse_target(URL))
    with pytest.raises(ValueError, match="sse transport is for a URL"):
        ConnectionSettings(transport="sse").check(parse_target(SHOWCASE))
    merged = read.with_headers({"authorization": "from --header", "X-Api-Key": "abc"})
    assert dict(merged.headers) == {"X-Api-Key": "abc", "Authorization": "Bearer s3cret"}
    assert "s3cret" not in repr(merged.public()) and "abc" not in repr(merged.public())
    assert merged.public()["headers"] == ["Authorization", "X-Api-Key"]


def test_variables_for_a_started_server_are_part_of_the_command_to_confirm() -> None:
    approvals = Approvals([SHOWCASE])
    target = parse_target(SHOWCASE)
    approvals.check(target)  # the command line's target, as given: not asked
    with pytest.raises(ConfirmationNeeded) as asked:
        approvals.check(target, env={"LD_PRELOAD": "/tmp/x.so"}, page="p")
    assert asked.value.command.startswith("LD_PRELOAD=/tmp/x.so ")
    assert asked.value.command.endswith(f"-m mcpkit run {SHOWCASE}")
    with pytest.raises(ConfirmationNeeded):  # another set of variables: that nonce is not its
        approvals.check(target, asked.value.nonce, env={"LD_PRELOAD": "/tmp/y.so"}, page="p")
    with pytest.raises(ConfirmationNeeded) as again:
        approvals.check(target, env={"LD_PRELOAD": "/tmp/x.so"}, page="p")
    approvals.check(target, again.value.nonce, env={"LD_PRELOAD": "/tmp/x.so"}, page="p")
    approvals.check(target, env={"LD_PRELOAD": "/tmp/x.so"})  # confirmed once: trusted


def era_server() -> Server:
    server = Server("eras")

    @server.tool()
    def hello() -> str:
        return "hi"

    return server


def in_memory(server: Server) -> Any:
    def factory(target: str, **options: Any) -> Client:
        return Client(server, **options)

    return factory


async def first_sent(events: asyncio.Queue[Any]) -> str:
    """The method of the first message the inspector sent in the last connect."""
    first = ""
    while not events.empty():
        event = events.get_nowait()
        if event["type"] == "connecting":
            first = ""
        elif not first and event["type"] == "message" and event["direction"] == "sent":
            first = str(event["body"]["method"])
    return first


async def test_the_hub_speaks_the_era_asked_keeps_it_for_a_reconnect_and_pings() -> None:
    hub = InspectorHub(client_factory=in_memory(era_server()))
    events = hub.subscribe()
    try:
        facts = await hub.connect("eras", ConnectionSettings(protocol="2025-11-25"))
        assert await first_sent(events) == "initialize"
        assert (facts["protocolVersion"], facts["modern"]) == ("2025-11-25", False)
        assert (await hub.ping())["method"] == "ping"
        facts = await hub.connect("eras", ConnectionSettings(protocol="2026-07-28"))
        assert await first_sent(events) == "server/discover"
        assert (facts["protocolVersion"], facts["modern"]) == ("2026-07-28", True)
        assert (await hub.ping())["method"] == "server/discover"
        facts = await hub.connect("eras")  # as `mcpkit dev` reconnects: the last settings
        assert facts["protocolVersion"] == "2026-07-28"
        assert hub.state()["settings"]["protocol"] == "2026-07-28"
    finally:
        await hub.disconnect()


async def test_a_pinned_transport_is_the_one_spoken() -> None:
    app = era_server().http_app(legacy_sse=LegacySse(sse_path="/events"))
    async with serving(app) as base:
        hub = InspectorHub()
        try:
            # HTTP+SSE, at a path the automatic choice would take for Streamable HTTP
            pinned = ConnectionSettings(transport="sse")
            facts = await hub.connect(f"{base}/events", pinned)
            assert (facts["protocolVersion"], facts["modern"]) == ("2025-11-25", False)
            streamable = ConnectionSettings(transport="streamable-http")
            with pytest.raises(Exception, match=r"40[045]"):  # and no fallback is tried
                await hub.connect(f"{base}/events", streamable)
            facts = await hub.connect(f"{base}/mcp", streamable)
            assert facts["modern"]  # auto era, over Streamable HTTP: 2026-07-28
        finally:
            await hub.disconnect()
