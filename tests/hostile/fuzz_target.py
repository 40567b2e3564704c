"""The fuzz target: arbitrary bytes into the JSON-RPC decoder and both session roles.

`check_input(data)` raises AssertionError (or whatever escapes the code under test) when a
property breaks: decoding never raises; each line fed to a session returns events without
raising; everything the session sends is well-formed JSON-RPC 2.0 (spec: basic/index); a
request it accepts has params a handler can decode; and it still answers a ping afterwards.
`scripts/fuzz` drives it with atheris (or hypothesis); tests/hostile runs it on the seeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import msgspec

from mcpkit.client.results import RESULT_TYPES
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.jsonrpc import Envelope, Malformed, decode_message
from mcpkit.protocol.server_session import ServerSession
from mcpkit.server.catalog.calling.tool_calls import PARAM_TYPES
from mcpkit.types import ClientCapabilities, Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS, methods_for

__all__ = ["CORPUS", "check_input", "method_seeds", "seeds"]

CORPUS: Final = Path(__file__).parent / "corpus"
MAX_LINES: Final = 8  # an input is up to this many newline-separated messages
MAX_MESSAGE_SIZE: Final = 64 * 1024
ERROR_CODES: Final = frozenset({-32700, -32600, -32601, -32602, -32603})

_SERVER_CAPS: Final = {
    "tools": {"listChanged": True},
    "logging": {},
    "completions": {},
    "prompts": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
}
_CLIENT_CAPS: Final = {
    "sampling": {},
    "roots": {"listChanged": True},
    "elicitation": {"form": {}, "url": {}},
}
_INITIALIZE: Final = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": "init",
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "0"},
        },
    }
).encode()
_INITIALIZED: Final = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
_PING: Final = b'{"jsonrpc":"2.0","id":"probe-ping","method":"ping"}'


def seeds() -> list[bytes]:
    """The seed corpus: real messages of both directions (one file each), and every method
    of every revision after a handshake in that revision."""
    files = [path.read_bytes() for path in sorted(CORPUS.iterdir()) if path.is_file()]
    return files + method_seeds()


def method_seeds() -> list[bytes]:
    """For each revision we speak and each of its methods: initialize in that revision,
    notifications/initialized, then the method with empty params (as a request or a
    notification, as the method is)."""
    out = []
    for revision in SUPPORTED_REVISIONS:
        handshake = _INITIALIZE.replace(b"2025-11-25", revision.encode()) + b"\n" + _INITIALIZED
        for rid, (name, info) in enumerate(sorted(methods_for(revision).items())):
            message: dict[str, Any] = {"jsonrpc": "2.0", "method": name, "params": {}}
            if info.kind == "request":
                message["id"] = rid
            out.append(handshake + b"\n" + json.dumps(message).encode())
    return out


def check_input(data: bytes) -> None:
    check_decoder(data)
    lines = data.split(b"\n")[:MAX_LINES]
    check_session(new_server(operating=False), lines)
    check_session(new_server(operating=True), lines)
    check_session(new_client(), lines)


def check_decoder(data: bytes) -> None:
    decoded = decode_message(data)
    if isinstance(decoded, Malformed):
        assert decoded.code in (-32700, -32600), decoded
        assert decoded.message, decoded
    else:
        assert isinstance(decoded, Envelope)


def new_server(*, operating: bool) -> ServerSession:
    session = ServerSession(
        Implementation(name="fuzz", version="0"),
        msgspec.convert(_SERVER_CAPS, ServerCapabilities),
        max_message_size=MAX_MESSAGE_SIZE,
        param_types=PARAM_TYPES,
    )
    if operating:
        session.receive_data(_INITIALIZE)
        session.receive_data(_INITIALIZED)
        session.data_to_send()
    return session


def new_client() -> ClientSession:
    """A client session after its handshake, with two requests of its own pending (ids 1, 2)."""
    session = ClientSession(
        Implementation(name="fuzz", version="0"),
        msgspec.convert(_CLIENT_CAPS, ClientCapabilities),
        max_message_size=MAX_MESSAGE_SIZE,
        result_types=RESULT_TYPES,
    )
    rid = session.start()
    session.data_to_send()
    session.receive_data(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": rid,
                "result": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}, "resources": {}, "prompts": {}, "logging": {}},
                    "serverInfo": {"name": "s", "version": "0"},
                },
            }
        ).encode()
    )
    session.send_request("tools/list", None)
    session.send_request("tools/call", {"name": "t", "arguments": {}}, progress=True)
    session.data_to_send()
    return session


def check_session(session: ServerSession | ClientSession, lines: list[bytes]) -> None:
    for line in lines:
        for event in session.receive_data(line):
            if isinstance(event, RequestReceived):
                check_params_decodable(event.params)
        check_outgoing(session)
    session.receive_data(_PING)
    answers = [m for m in check_outgoing(session) if m.get("id") == "probe-ping"]
    assert answers == [{"jsonrpc": "2.0", "id": "probe-ping", "result": {}}], answers


def check_params_decodable(params: Any) -> None:
    """Params the session kept raw (a tool's arguments) are valid JSON for the handler; a
    number past a double's range (1e999) is valid JSON too, which the tool answers as an
    argument error (tests/e2e/test_bad_input.py)."""
    for name in getattr(params, "__struct_fields__", ()):
        value = getattr(params, name)
        if isinstance(value, msgspec.Raw) and len(value):  # an empty Raw means "absent"
            try:
                msgspec.json.decode(value)
            except msgspec.ValidationError as exc:
                assert "out of range" in str(exc), exc


def check_outgoing(session: ServerSession | ClientSession) -> list[dict[str, Any]]:
    """Everything the session queued, each checked to be well-formed JSON-RPC 2.0."""
    sent: list[dict[str, Any]] = []
    for item in session.data_to_send():
        decoded = json.loads(item.data.decode("utf-8"))  # must be UTF-8 JSON
        for msg in decoded if isinstance(decoded, list) else [decoded]:
            check_message(msg)
            sent.append(msg)
    return sent


def check_message(msg: Any) -> None:
    assert isinstance(msg, dict) and msg.get("jsonrpc") == "2.0", msg
    kinds = [key for key in ("method", "result", "error") if key in msg]
    assert len(kinds) == 1, msg
    rid = msg.get("id")
    assert rid is None or (isinstance(rid, (int, str)) and not isinstance(rid, bool)), msg
    if kinds == ["method"]:
        assert isinstance(msg["method"], str), msg
    elif kinds == ["result"]:
        assert "id" in msg and rid is not None, msg
    else:
        assert "id" in msg, msg
        error = msg["error"]
        assert error["code"] in ERROR_CODES, msg
        assert isinstance(error["message"], str) and error["message"], msg
