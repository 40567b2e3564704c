"""What an API answers and what a document host sends are read within a size: a call whose
answer passes `max_response_bytes`, or a document past `max_document_bytes`, is refused with
the setting named, whether the size is declared, streamed, or hidden by compression."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from _petstore import petstore

from mcpkit.openapi import (
    OpenApiRequestError,
    OpenApiSpecError,
    build_routes,
    load_spec,
    read_spec,
)

LIMIT = 1000


class _Drip(httpx.AsyncByteStream):
    """An answer streamed in pieces with no Content-Length: its size is known only by
    reading it."""

    def __init__(self, pieces: int) -> None:
        self.pieces = pieces
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.pieces):
            self.sent += 1
            yield b"x" * 100


async def call_list_pets(transport: httpx.MockTransport) -> object:
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        routes = build_routes(read_spec(petstore()), client=client, max_response_bytes=LIMIT)
        listing = next(r for r in routes if r.name == "listPets")
        return (await listing.call({})).body


async def test_an_answer_that_declares_more_than_the_bound_is_refused_unread() -> None:
    big = b"[" + b"1," * LIMIT + b"1]"
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=big))
    with pytest.raises(OpenApiRequestError, match="max_response_bytes"):
        await call_list_pets(transport)


async def test_a_streamed_answer_is_cut_off_once_past_the_bound() -> None:
    drip = _Drip(pieces=1000)  # 100 kB, far past the bound
    headers = {"content-type": "text/plain"}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, headers=headers, stream=drip))
    with pytest.raises(OpenApiRequestError, match="more than 1000 bytes"):
        await call_list_pets(transport)
    assert drip.sent <= LIMIT // 100 + 1  # reading stopped at the bound


async def test_a_compressed_answer_counts_what_it_unpacks_to() -> None:
    packed = gzip.compress(b"[" + b"0," * 50_000 + b"0]")  # 100 kB in a few hundred bytes
    assert len(packed) < LIMIT
    headers = {"content-encoding": "gzip", "content-type": "application/json"}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, headers=headers, content=packed))
    with pytest.raises(OpenApiRequestError, match="max_response_bytes"):
        await call_list_pets(transport)


async def test_an_answer_within_the_bound_is_read_whole() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json=[{"id": 1}]))
    assert await call_list_pets(transport) == [{"id": 1}]


async def test_a_document_past_its_bound_is_refused_naming_the_setting() -> None:
    text = b'{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}'
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=text))
    async with httpx.AsyncClient(transport=transport) as client:
        url = "http://docs.test/openapi.json"
        loaded = await load_spec(url, client=client, max_document_bytes=len(text))
        assert loaded["openapi"] == "3.1.0"
        with pytest.raises(OpenApiSpecError, match="max_document_bytes"):
            await load_spec(url, client=client, max_document_bytes=len(text) - 1)


def test_a_bound_below_one_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        build_routes(read_spec(petstore()), client=httpx.AsyncClient(), max_response_bytes=0)


async def test_a_document_nested_too_deeply_or_not_utf8_is_refused_not_a_crash(
    tmp_path: Path,
) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=deep))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(OpenApiSpecError, match="nested too deeply"):
            await load_spec("http://docs.test/openapi.json", client=client)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"info": {"title": "caf\xe9"}}')
    with pytest.raises(OpenApiSpecError, match="cannot read the document"):
        read_spec(latin)


def test_schemas_nested_past_the_recursion_limit_are_refused_naming_it() -> None:
    document = petstore()
    schema: dict[str, object] = {"type": "string"}
    for _ in range(3000):  # built in Python: no JSON decoder stopped it first
        schema = {"type": "object", "properties": {"x": schema}}
    document["components"]["schemas"]["Deep"] = schema
    document["paths"]["/deep"] = {
        "post": {
            "operationId": "deep",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deep"}}}
            },
            "responses": {"204": {"description": "done"}},
        }
    }
    with pytest.raises(OpenApiSpecError, match="nested too deeply"):
        build_routes(read_spec(document), client=httpx.AsyncClient())


async def test_an_answer_nested_too_deeply_for_json_is_kept_as_text() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    headers = {"content-type": "application/json"}
    transport = httpx.MockTransport(lambda _: httpx.Response(200, headers=headers, content=deep))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        routes = build_routes(read_spec(petstore()), client=client)
        listing = next(r for r in routes if r.name == "listPets")
        body = (await listing.call({})).body
    assert isinstance(body, str) and len(body) == len(deep)
