"""uvicorn's protocols with the writes of one loop turn joined (mcpkit.transports.http.
uvicorn_protocol), as `mcpkit run` serves: one write per quick answer, order kept, nothing held
past a bound or lost at close; and the app served by each protocol, joined or not."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest
from _serving import INITIALIZE, WAIT, headers, serving, small_server

from mcpkit import Client, Server
from mcpkit.transports.deployment.uvicorn_protocol import (
    FLUSH_AT,
    JoinedWrites,
    joined,
    protocol,
    uvicorn_protocol,
)


def echo_server() -> Server:
    server = small_server("joined")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    return server


class Recorder(asyncio.Transport):
    """A transport that records each write it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.eof = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


async def test_the_writes_of_one_turn_go_out_as_one_in_order() -> None:
    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\n\r\n")
    joined.write(bytearray(b"data: 1\n\n"))
    joined.writelines([b"a", memoryview(b"b")])
    assert inner.writes == []  # held until the end of the turn
    assert joined.get_write_buffer_size() == 19 + 9 + 2 + 7
    await asyncio.sleep(0)
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\ndata: 1\n\nab"]
    joined.write(b"next")
    await asyncio.sleep(0)
    assert inner.writes[1:] == [b"next"]
    assert joined.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the transport's


class _Reading(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.reading: list[str] = []

    def pause_reading(self) -> None:
        self.reading.append("pause")

    def resume_reading(self) -> None:
        self.reading.append("resume")


async def test_what_uvicorn_calls_per_request_is_no_failed_lookup() -> None:
    # uvicorn asks `is_closing()` once per response, and its flow control pauses and resumes
    # reading: each passes on to the transport without a failed attribute lookup first
    # (`__getattr__`), which costs an AttributeError raised and cleared every time.
    missed: list[str] = []

    class Watched(JoinedWrites):
        __slots__ = ()

        def __getattr__(self, name: str) -> Any:
            missed.append(name)
            return super().__getattr__(name)

    inner = _Reading()
    joined = Watched(inner, asyncio.get_running_loop())
    assert joined.is_closing() is False
    joined.pause_reading()
    joined.resume_reading()
    inner.close()
    assert joined.is_closing() is True
    assert inner.reading == ["pause", "resume"]
    assert missed == []


async def test_a_large_write_is_not_held() -> None:
    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    big = b"x" * FLUSH_AT
    joined.write(big)
    assert inner.writes == [big]  # at once, not copied into a buffer
    joined.write(b"head")
    joined.write(big)  # past the bound with what is held: all of it goes, in order
    assert inner.writes[1:] == [b"head" + big]
    await asyncio.sleep(0)
    assert len(inner.writes) == 2  # nothing left for the end of the turn


async def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    joined.write(b"last words")
    joined.close()
    assert inner.writes == [b"last words"] and inner.closed
    await asyncio.sleep(0)
    assert inner.writes == [b"last words"]  # not twice

    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    joined.write(b"x")
    joined.write_eof()
    assert inner.writes == [b"x"] and inner.eof

    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    joined.write(b"dropped")
    joined.abort()
    await asyncio.sleep(0)
    assert inner.writes == [] and inner.aborted


async def test_a_transport_closed_meanwhile_gets_nothing() -> None:
    inner = Recorder()
    joined = JoinedWrites(inner, asyncio.get_running_loop())
    joined.write(b"late")
    inner.closed = True  # the peer went: uvicorn learns it from connection_lost
    await asyncio.sleep(0)
    assert inner.writes == []


class Inner(asyncio.Protocol):
    """A protocol recording what it is built with and every callback it gets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.built = (args, kwargs)
        self.calls: list[tuple[str, Any]] = []
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.calls.append(("made", None))

    def data_received(self, data: bytes) -> None:
        self.calls.append(("data", data))

    def eof_received(self) -> bool:
        self.calls.append(("eof", None))
        return True

    def pause_writing(self) -> None:
        self.calls.append(("pause", None))

    def resume_writing(self) -> None:
        self.calls.append(("resume", None))

    def connection_lost(self, exc: Exception | None) -> None:
        self.calls.append(("lost", exc))


async def test_joined_wraps_a_protocol_it_neither_subclasses_nor_reads() -> None:
    """The inner protocol is built with uvicorn's arguments as given, sees every callback,
    and writes through JoinedWrites to the real transport."""
    cls = joined(Inner)
    assert not issubclass(cls, Inner) and cls.__name__ == "JoinedInner"
    outer: Any = cast(Any, cls)(1, config="c")
    inner: Inner = outer.inner
    assert inner.built == ((1,), {"config": "c"})
    real = Recorder()
    outer.connection_made(real)
    assert isinstance(inner.transport, JoinedWrites) and inner.transport.transport is real
    outer.data_received(b"GET")
    assert outer.eof_received() is True
    outer.pause_writing()
    outer.resume_writing()
    error = ConnectionResetError()
    outer.connection_lost(error)
    assert [name for name, _ in inner.calls] == ["made", "data", "eof", "pause", "resume", "lost"]
    assert inner.calls[1] == ("data", b"GET") and inner.calls[-1] == ("lost", error)
    inner.transport.write(b"a")
    inner.transport.write(b"b")
    await asyncio.sleep(0)
    assert real.writes == [b"ab"]


def test_the_protocol_classes_wrap_uvicorns_own_made_once() -> None:
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert uvicorn_protocol("httptools") is HttpToolsProtocol
    assert uvicorn_protocol("h11") is H11Protocol
    assert protocol("httptools").__name__ == "JoinedHttpToolsProtocol"
    assert protocol("h11").__name__ == "JoinedH11Protocol"
    assert protocol("httptools") is protocol("httptools")


class Counted:
    """The real transport, counting the writes that reach it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def counting(base: type[asyncio.Protocol], seen: list[Counted]) -> type[asyncio.Protocol]:
    def connection_made(self: Any, transport: Any) -> None:
        seen.append(Counted(transport))
        base.connection_made(self, seen[-1])  # type: ignore[arg-type]

    return type("Counting" + base.__name__, (base,), {"connection_made": connection_made})


async def _call_on_a_new_connection(base: str) -> None:
    """One tools/call on a connection of its own (its writes are the last Counted's)."""
    async with httpx.AsyncClient() as http:
        init = await http.post(base + "/mcp", json=INITIALIZE, headers=headers())
        sid = init.headers["mcp-session-id"]
        done = await http.post(
            base + "/mcp",
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers=headers(sid),
        )
        assert done.status_code == 202
    async with httpx.AsyncClient() as http:
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}},
        }
        answer = await http.post(base + "/mcp", json=call, headers=headers(sid))
        assert answer.status_code == 200 and '"text":"hi"' in answer.text


@pytest.mark.parametrize(("joined", "writes"), [(True, 1), (False, 2)])
async def test_a_quick_answer_is_one_write_when_joined(joined: bool, writes: int) -> None:
    """Head and answer go to the socket in one write joined, in two with uvicorn's own."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    seen: list[Counted] = []
    base_class = protocol("httptools") if joined else HttpToolsProtocol
    async with serving(echo_server().http_app(), http=counting(base_class, seen)) as base:
        await _call_on_a_new_connection(base)
    assert len(seen[-1].writes) == writes, seen[-1].writes
    whole = b"".join(seen[-1].writes)
    assert whole.startswith(b"HTTP/1.1 200 OK") and whole.endswith(b"0\r\n\r\n")


@pytest.mark.parametrize("http", ["auto", "httptools", "h11"])
async def test_the_app_serves_alike_on_each_protocol(http: str) -> None:
    """A large answer (past the bound), a call with progress (several events on one
    stream), a session ended by DELETE (the client's close), a refused body."""
    async with serving(echo_server().http_app(), http=http) as base:
        async with asyncio.timeout(WAIT), Client(base + "/mcp") as client:
            result = await client.call_tool("echo", {"text": "x" * 100_000})
            assert result.content[0].text == "x" * 100_000  # type: ignore[union-attr]
            steps: list[float] = []
            slow = await client.call_tool(
                "slow", {"steps": 3}, progress=lambda p, t, m: steps.append(p)
            )
            assert slow.content[0].text == "3 steps"  # type: ignore[union-attr]
            assert steps == [1, 2, 3]
        async with httpx.AsyncClient() as http_client:
            refused = await http_client.post(base + "/mcp", content=b"{", headers=headers())
            assert refused.status_code == 400
            assert refused.json()["error"]["code"] == -32700
