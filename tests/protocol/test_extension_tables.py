"""The method table of a revision with extensions added (`methods_with`) is the one of the
extensions a session was built with: two sessions (two servers in one process: tests, mounts,
a proxy) whose extensions share an identifier but add other methods each serve their own.
Plain calls, no event loop."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from mcpkit.protocol import extensions as extensions_module
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.extensions import Extension, methods_with, own_requests
from mcpkit.protocol.modern import ModernOffer
from mcpkit.protocol.server_session import ServerSession
from mcpkit.types import Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS

INFO = Implementation(name="x", version="1")
REVISION = "2026-07-28"
AUDIT = "com.example/audit"


def audit(*methods: str) -> Extension:
    return Extension(id=AUDIT, methods=own_requests(methods))


def server(extension: Extension) -> ServerSession:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    return ServerSession(
        INFO, caps, modern=ModernOffer(SUPPORTED_REVISIONS, extensions=[extension])
    )


def ask(session: ServerSession, method: str, rid: int = 1) -> list[Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {AUDIT: {}}},
    }
    message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": {"_meta": meta}}
    events = session.receive_data(json.dumps(message).encode())
    return [*events, *(json.loads(o.data) for o in session.data_to_send())]


def test_two_sessions_with_an_extension_of_one_id_serve_each_its_own_methods() -> None:
    first = server(audit("audit/read"))
    second = server(audit("audit/write"))
    (read,) = ask(first, "audit/read")
    assert isinstance(read, RequestReceived) and read.method == "audit/read"
    (write,) = ask(second, "audit/write")  # (was -32601: the first session's table)
    assert isinstance(write, RequestReceived) and write.method == "audit/write"
    (unknown,) = ask(second, "audit/read", 2)
    assert unknown["error"]["code"] == -32601


def test_the_table_has_the_methods_of_the_extensions_given() -> None:
    read, write = audit("audit/read"), audit("audit/write")
    assert "audit/read" in methods_with(REVISION, [read])
    assert "audit/write" not in methods_with(REVISION, [read])
    assert "audit/write" in methods_with(REVISION, [write])
    assert "audit/read" not in methods_with(REVISION, [write])
    assert "tools/call" in methods_with(REVISION, [write])
    # The same extensions again: the same table, made once.
    assert methods_with(REVISION, (read,)) is methods_with(REVISION, [read])


def test_the_tables_remembered_are_bounded() -> None:
    for n in range(3 * extensions_module._MAX_TABLES):
        methods_with(REVISION, [audit(f"audit/m{n}")])
    assert len(extensions_module._TABLES) <= extensions_module._MAX_TABLES  # pyright: ignore[reportPrivateUsage]
