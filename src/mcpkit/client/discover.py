"""Choosing the era at connect: probe with `server/discover`, speak the modern revision
if the server lists it, else fall back to the `initialize` handshake.

Spec (2026-07-28): basic/versioning "Backward Compatibility with Initialization-Based
Versions", server/discover, basic/transports/stdio and streamable-http "Backward
Compatibility". A result listing a modern revision we speak means a modern server; an
`UnsupportedProtocolVersionError` (-32022) whose `supported` lists one means a modern server
that wants that one (we retry with it once); any other error, an HTTP 400/404 without a modern
error, or no answer in time means a legacy server, spoken to with `initialize`; but a probe
the HTTP auth could not authorize fails the connect (a legacy server wants the token too).
"""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.client.discover_answer import (
    Discovered,
    modern_choice,
    modern_wanted,
    read_discover,
)
from mcpkit.client.request_terms import ModernCalls
from mcpkit.errors import ConnectionClosed, McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.client_session import ClientSession
from mcpkit.runtime.authorizing import answered_within
from mcpkit.runtime.connection import Connection
from mcpkit.types.methods import MODERN_REVISIONS

__all__ = [
    "ModernRefused",
    "discover",
    "pinned_refusal",
    "speak_sessions",
    "speak_modern",
]


class ModernRefused(McpError):
    """The server does not speak the modern revision the client was pinned to."""


def speak_modern(conn: Connection, calls: ModernCalls, headers: Any) -> None:
    """Set the session, and an HTTP channel, to speak `calls.revision`."""
    session = conn.session
    assert isinstance(session, ClientSession)
    session.speak_modern(calls.revision)
    speak = conn.extras.speak_modern
    if speak is not None:
        speak(calls.revision, headers)


def speak_sessions(conn: Connection) -> None:
    """Back to the legacy era, for a server that does not speak the modern one."""
    session = conn.session
    assert isinstance(session, ClientSession)
    session.forget_modern()
    speak = conn.extras.speak_sessions
    if speak is not None:
        speak()


async def discover(
    conn: Connection, calls: ModernCalls, headers: Any, timeout: float | None
) -> Discovered | None:
    """Probe with `server/discover`; the result if the server speaks `calls.revision` (or
    another modern revision we speak, which `calls` then speaks), else None, leaving the
    session and the channel in the legacy era again."""
    speak_modern(conn, calls, headers)
    for attempt in range(2):
        try:
            found = read_discover(await _ask(conn, calls, timeout))
        except McpError as exc:  # (RequestTimeout too: a legacy stdio server may say nothing)
            if _authorization_failed(exc):
                # Not a sign of a legacy server: a 2025 one wants the token too, so falling
                # back to initialize would only fail again, or hide why.
                raise ConnectionClosed(exc.message) from exc
            choice = modern_wanted(exc)
            if choice is not None and attempt == 0:
                # A modern server that wants another modern revision (or the same one:
                # basic/versioning has the client retry with one from `supported`).
                calls.revision = choice
                speak_modern(conn, calls, headers)
                continue
            calls.probe_error = exc
            break
        choice = modern_choice(found.supported_versions)
        if choice is None:
            break
        calls.revision = choice
        session = conn.session
        assert isinstance(session, ClientSession)
        session.speak_modern(choice, found.capabilities, found.server_info)
        return found
    speak_sessions(conn)
    return None


async def _ask(conn: Connection, calls: ModernCalls, timeout: float | None) -> msgspec.Raw:
    """server/discover's answer within `timeout`, the time the channel's auth spends getting a
    token left out: the probe measures the server, not how long a person takes to log in."""
    params = calls.params(None)
    authorizing = conn.extras.authorizing
    raw: msgspec.Raw
    if authorizing is None:
        raw = await conn.request(
            "server/discover", params, timeout=timeout, result_type=msgspec.Raw
        )
        return raw
    request = conn.request("server/discover", params, result_type=msgspec.Raw)
    try:
        raw = await answered_within(request, timeout, authorizing)
    except TimeoutError:
        raise RequestTimeout(
            f"server/discover got no response within {timeout} s (not counting authorization)"
        ) from None
    return raw


def _authorization_failed(exc: McpError) -> bool:
    """Whether the transport answered the probe itself because its auth could not get a token
    (it marks that error's data with `authError`)."""
    data: object = exc.data
    return isinstance(data, dict) and "authError" in data


def pinned_refusal(
    url_or_target: object, probe_error: McpError | None = None, *, legacy_only: bool = False
) -> ModernRefused:
    """The refusal of a client pinned to the modern era whose server does not speak it:
    `probe_error` is why server/discover failed, if it did; `legacy_only`, that no probe
    was made since the transport carries only sessions (HTTP+SSE)."""
    revisions = ", ".join(MODERN_REVISIONS)
    if legacy_only:
        why = "the HTTP+SSE transport of a URL ending in /sse carries only session revisions"
    elif probe_error is not None:
        why = f"its server/discover failed: {probe_error.message}"
    else:
        why = "its server/discover failed or did not list it"
    return ModernRefused(
        codes.UNSUPPORTED_PROTOCOL_VERSION,
        f"{url_or_target!r} does not speak {revisions} ({why}); use protocol='auto' to fall "
        "back to the initialize handshake",
    )
