"""A proxy in front of the official Python SDK's and the TypeScript SDK's features servers
passes the interop features checks (tests/interop/test_interop_features.py): sampling, with
tools too, form and URL elicitation and its completion, the -32042 error with its data,
roots, logging and its level; driven by the mcpkit client, and by an SDK's own client
talking to `mcpkit proxy` over stdio."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from _serving import serving
from interop_harness import run_summary, server_command, through_proxy
from test_interop_features import (
    EXPECTED_LOGS,
    QUESTION,
    ROOTS,
    SUITE,
    TOOL_QUESTION,
    McpkitRecorder,
    check_features,
    tool_json,
)

from mcpkit import Client, McpError
from mcpkit.proxy import ProxyServer
from mcpkit.types import Root

# The session proxy of 2025-11-25 (one upstream session per client session): the client is
# pinned to that revision. tests/proxy/test_proxy_2026.py covers 2026-07-28 clients.
Client = functools.partial(Client, protocol="2025-11-25")


@pytest.mark.parametrize("downstream", ["memory", "http"])
@pytest.mark.parametrize("server", ["official", "ts"])
async def test_mcpkit_client_through_a_proxy_of_an_sdk_features_server(
    server: str, downstream: str
) -> None:
    proxy = ProxyServer(server_command(server, SUITE), stderr="devnull")
    if downstream == "memory":
        await _drive(proxy, server)
        return
    async with serving(proxy.http_app()) as base:
        await _drive(base + "/mcp", server)


async def _drive(target: Any, server: str) -> None:
    """test_interop_features's mcpkit client run, against `target`."""
    rec = McpkitRecorder()
    client = Client(
        target,
        sampling_handler=rec.sample,
        sampling_tools=True,
        elicitation_handler=rec.elicit,
        url_elicitation_handler=rec.elicit_url,
        roots=[Root(uri=r["uri"], name=r["name"]) for r in ROOTS],
        on_log=rec.on_log,
        on_notification=rec.on_notification,
    )
    async with client:  # every wait is bounded by tests/conftest.py's async test timeout
        sampled = tool_json(await client.call_tool("ask_llm", {"question": QUESTION}))
        with_tools = tool_json(
            await client.call_tool("ask_llm_with_tools", {"question": TOOL_QUESTION})
        )
        accepted = tool_json(await client.call_tool("sign_up"))
        declined = tool_json(await client.call_tool("sign_up"))
        defaulted = tool_json(await client.call_tool("sign_up"))
        connected = tool_json(await client.call_tool("connect_account"))
        await rec.wait_until(lambda: len(rec.completed) >= 1)
        try:
            required: dict[str, Any] = {"result": await client.call_tool("connect_required")}
        except McpError as exc:  # the upstream's -32042, passed down with its data
            required = {"code": exc.code, "data": exc.data}
        roots = tool_json(await client.call_tool("show_roots"))
        await client.set_logging_level("info")
        chatty = await client.call_tool("chatty")
        await rec.wait_until(lambda: len(rec.logs) >= len(EXPECTED_LOGS))
        summary = {
            "protocol_version": client.protocol_version,
            "server_name": client.server_info.name,
            "logging_capability": client.server_capabilities.logging is not None,
            "sampling": {"requests": rec.sampling, "result": sampled},
            "sampling_tools": {"requests": rec.sampling_tools, "result": with_tools},
            "form": {
                "requests": rec.forms,
                "accepted": accepted,
                "declined": declined,
                "defaulted": defaulted,
            },
            "url": {
                "requests": rec.urls,
                "result": connected,
                "completed": rec.completed,
                "required_error": required,
            },
            "roots": roots,
            "logs": rec.logs,
            "chatty": getattr(chatty.content[0], "text", None),
        }
    check_features(summary, server=server)


def _run_client_through_proxy(client: str, server: str) -> dict[str, Any]:
    """Peer client `client` started with `mcpkit proxy '<server's command>'` as its server."""
    return run_summary(through_proxy(client, server, SUITE), f"{client} through mcpkit proxy")


@pytest.mark.parametrize(
    ("client", "server"),
    [
        pytest.param("ts", "official", id="ts-client-via-proxy-to-official-server"),
        pytest.param("official", "ts", id="official-client-via-proxy-to-ts-server"),
    ],
)
def test_an_sdk_client_through_mcpkit_proxy_to_the_other_sdk_s_server(
    client: str, server: str
) -> None:
    summary = _run_client_through_proxy(client, server)
    assert summary["client"] == client
    check_features(summary, server=server)
