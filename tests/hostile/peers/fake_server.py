"""A fake MCP server writing raw bytes, to attack the real Client: `python fake_server.py [junk]`.

It answers initialize and ping properly. A `tools/call` names what to send back:
  echo           a proper result with the text "ok"
  junk           invalid UTF-8, deep JSON, garbage, a bare number, a stray response and an
                 oversize line, then a proper result
  utf8, deep, truncated, wrong-shape, oversize, utf8-error
                 an invalid answer to the call, its id readable in the line's head
  probe-client   bad requests to the client, then a ping of its own; the result's text is
                 the JSON list of the client's answers to them
With `junk`, it also sends the junk lines unprompted right after `notifications/initialized`.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Final

__all__: list[str] = []

DEEP: Final = b"[" * 1000 + b"]" * 1000
OVERSIZE: Final = 128 * 1024  # the tests' Client allows 64 KiB

JUNK: Final = [
    b'{"jsonrpc":"2.0","method":"notifications/\xff"}',
    b'{"jsonrpc":"2.0","id":"x\xfe","result":{}}',
    b'{"jsonrpc":"2.0","method":"notifications/message","params":' + DEEP + b"}",
    DEEP,
    b"this is not json at all",
    b'"abc" x',
    b"42",
    b'{"jsonrpc":"2.0","id":987654,"result":{}}',
    b'{"jsonrpc":"2.0","method":"notifications/message","params":{"x":"' + b"y" * OVERSIZE + b'"}}',
]

# What the fake server sends the client as requests, and the ping that follows them.
PROBES: Final = [
    b'{"jsonrpc":"2.0","id":"p1","method":"pi\xffng"}',
    b'{"jsonrpc":"2.0","id":"p2","method":"ping","params":{"x":' + DEEP + b"}}",
    b'{"jsonrpc":"2.0","id":"p3","method":"ping","params":{',
    b"42",
]
PROBE_PING: Final = b'{"jsonrpc":"2.0","id":"fake-ping","method":"ping"}'


def write(line: bytes) -> None:
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.buffer.flush()


def head(rid: Any) -> bytes:
    return b'{"jsonrpc":"2.0","id":' + json.dumps(rid).encode()


def result(rid: Any, payload: Any) -> None:
    write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": payload}).encode())


def text_result(rid: Any, text: str) -> None:
    result(rid, {"content": [{"type": "text", "text": text}]})


def bad_answer(rid: Any, kind: str) -> None:
    content = b',"result":{"content":[{"type":"text","text":'
    lines = {
        "utf8": head(rid) + content + b'"caf\xc3"}]}}',
        "deep": head(rid) + content + b'"a"}],"x":' + DEEP + b"}}",
        "truncated": head(rid) + content + b'"a"',
        "wrong-shape": head(rid) + b',"result":42}',
        "oversize": head(rid) + content + b'"' + b"y" * OVERSIZE + b'"}]}}',
        "utf8-error": head(rid) + b',"error":{"code":-32000,"message":"bad \xff"}}',
    }
    write(lines[kind])


def probe_client(rid: Any) -> None:
    for line in [*PROBES, PROBE_PING]:
        write(line)
    answers = []
    for line in sys.stdin.buffer:
        msg = json.loads(line)
        if "method" in msg:
            continue
        answers.append(msg)
        if msg.get("id") == "fake-ping":
            break
    text_result(rid, json.dumps(answers))


def serve(msg: dict[str, Any]) -> None:
    method, rid = msg.get("method"), msg.get("id")
    if method == "initialize":
        result(
            rid,
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "fake", "version": "0"},
            },
        )
    elif method == "notifications/initialized" and sys.argv[1:] == ["junk"]:
        for line in JUNK:
            write(line)
    elif method == "ping":
        result(rid, {})
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "echo":
            text_result(rid, "ok")
        elif name == "junk":
            for line in JUNK:
                write(line)
            text_result(rid, "ok")
        elif name == "probe-client":
            probe_client(rid)
        else:
            bad_answer(rid, name)


def main() -> None:
    for line in sys.stdin.buffer:  # ends when the client closes our stdin
        if line.strip():
            serve(json.loads(line))


if __name__ == "__main__":
    main()
