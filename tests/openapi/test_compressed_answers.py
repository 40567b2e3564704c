"""An API may compress its answers: gzip and deflate are asked for and undone as they are
read, the bound (`max_response_bytes`, `max_document_bytes`) counting what they unpack to a
piece at a time, so a compression bomb is refused having made no more than the bound; any other
coding is refused by name."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from _petstore import petstore

from mcpkit.openapi import OpenApiRequestError, OpenApiSpecError, build_routes, load_spec, read_spec

MIB = 1024 * 1024
LIMIT = MIB


def _gzip_bomb(mebibytes: int) -> bytes:
    """`mebibytes` MiB of zeros, gzip-compressed (about a thousandth of that), made without
    ever holding them whole."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MIB)
    return b"".join(packer.compress(zeros) for _ in range(mebibytes)) + packer.flush()


BOMB = _gzip_bomb(50)

Handler = Callable[[httpx.Request], httpx.Response]


def answering(body: bytes, coding: str, asked: list[str] | None = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if asked is not None:
            asked.append(request.headers.get("accept-encoding", ""))
        headers = {
            "content-type": "application/json",
            "content-encoding": coding,
            "content-length": str(len(body)),
        }
        # a stream, as from a socket: `content=` would be read (and inflated) right here
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    return handle


async def call_list_pets(handler: Handler, limit: int = LIMIT) -> object:
    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        routes = build_routes(read_spec(petstore()), client=client, max_response_bytes=limit)
        listing = next(r for r in routes if r.name == "listPets")
        return (await listing.call({})).body


async def test_a_gzip_bomb_is_refused_having_unpacked_no_more_than_the_bound() -> None:
    assert len(BOMB) < 100_000  # 50 MiB in about 50 kB: one chunk as it arrives
    tracemalloc.start()
    try:
        with pytest.raises(OpenApiRequestError, match=r"more than 1048576 bytes \(max_response"):
            await call_list_pets(answering(BOMB, "gzip"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB, f"{peak} bytes held to refuse a bomb bounded at {LIMIT}"


PETS = [{"id": n, "name": f"pet {n}"} for n in range(1000)]
PACKED = json.dumps(PETS).encode()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(PACKED)),
        ("x-gzip", gzip.compress(PACKED)),
        ("deflate", zlib.compress(PACKED)),  # as RFC 9110 says: zlib-wrapped
        ("deflate", _raw_deflate(PACKED)),  # as some servers send it
        ("GZIP ", gzip.compress(PACKED)),
        ("identity", PACKED),
    ],
)
async def test_an_answer_compressed_within_the_bound_is_unpacked(coding: str, body: bytes) -> None:
    asked: list[str] = []
    assert await call_list_pets(answering(body, coding, asked), limit=len(PACKED)) == PETS
    assert asked == ["gzip, deflate"]


async def test_an_answer_that_unpacks_one_byte_past_the_bound_is_refused() -> None:
    with pytest.raises(OpenApiRequestError, match="max_response_bytes"):
        await call_list_pets(answering(gzip.compress(PACKED), "gzip"), limit=len(PACKED) - 1)


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, gzip"])
async def test_an_answer_in_a_coding_not_asked_for_is_refused_by_name(coding: str) -> None:
    with pytest.raises(OpenApiRequestError, match=f"content coding '{coding}'"):
        await call_list_pets(answering(b"\x1b\x00", coding))


async def test_a_corrupt_compressed_answer_fails_the_call() -> None:
    with pytest.raises(OpenApiRequestError, match="failed: DecodingError: gzip body"):
        await call_list_pets(answering(b"\x1f\x8b not gzip at all", "gzip"))


class _Trailing(httpx.AsyncByteStream):
    """A small gzip stream, then bytes past its end without end (and no Content-Length)."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield gzip.compress(b"[]")
        while self.sent < 1000:
            self.sent += 1
            yield b"\0" * 1000


async def test_bytes_past_the_end_of_a_compressed_stream_are_counted_as_they_arrive() -> None:
    stream = _Trailing()
    headers = {"content-type": "application/json", "content-encoding": "gzip"}

    def handle(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, stream=stream)

    with pytest.raises(OpenApiRequestError, match="more than 5000 bytes"):
        await call_list_pets(handle, limit=5000)
    # reading stopped at the bound and the room left for compression's framing (64 KiB)
    assert stream.sent < 100


DOCUMENT = json.dumps({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}})


async def load_document(body: bytes, limit: int) -> object:
    transport = httpx.MockTransport(answering(body, "gzip"))
    async with httpx.AsyncClient(transport=transport) as client:
        loaded = await load_spec("http://docs.test/o.json", client=client, max_document_bytes=limit)
    return loaded["info"]


async def test_a_document_may_come_compressed() -> None:
    info = await load_document(gzip.compress(DOCUMENT.encode()), limit=len(DOCUMENT))
    assert info == {"title": "t", "version": "1"}


async def test_a_compressed_document_past_its_bound_is_refused_naming_the_setting() -> None:
    with pytest.raises(OpenApiSpecError, match="max_document_bytes"):
        await load_document(BOMB, limit=MIB)
