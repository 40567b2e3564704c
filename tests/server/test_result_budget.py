"""`max_result=` and `Server(max_result=)`: a tool result past its budget is cut with a marker,
or its overflow kept as resources only its caller reads, in both eras; never refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.errors import McpError
from mcpkit.server import ResultBudget
from mcpkit.server.catalog.calling.result_budget import MARKER_ROOM, RESULT_SCHEME, content_size
from mcpkit.server.catalog.calling.result_store import MAX_OVERFLOW_BYTES, ResultStore
from mcpkit.stores.approvals import approvals_of
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import ENTRY_OVERHEAD, MAX_TTL, Limit, MemoryKeyValueStore
from mcpkit.stores.url import as_stores, open_store
from mcpkit.types import (
    ContentBlock,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

ERAS = ["2025-11-25", "2026-07-28"]
#: 6,000 bytes of numbered lines: more than any budget below.
BIG = "".join(f"line {n:04d} é\n" for n in range(500))


def make_server(**options: Any) -> Server:
    server = Server("budgets", **options)

    @server.tool(max_result=2048)
    def cut() -> str:
        return BIG

    @server.tool(max_result=ResultBudget(tokens=512, overflow="resource"))
    def moved() -> str:
        return BIG

    @server.tool(max_result=ResultBudget(bytes=2048, overflow="paginate"))
    def paged() -> str:
        return BIG

    @server.tool(max_result=2048)
    def small() -> str:
        return "fits"

    @server.tool(max_result=ResultBudget(bytes=2048, overflow="resource"))
    def data() -> dict[str, str]:
        return {"text": BIG}

    @server.tool
    def unbudgeted() -> str:
        return BIG

    return server


def texts(content: list[ContentBlock]) -> list[str]:
    return [b.text for b in content if isinstance(b, TextContent)]


def link_of(content: list[ContentBlock]) -> ResourceLink:
    (link,) = [b for b in content if isinstance(b, ResourceLink)]
    return link


async def read_text(client: Client, uri: str) -> list[str]:
    read = await client.read_resource(uri)
    return [c.text for c in read.contents if isinstance(c, TextResourceContents)]


@pytest.mark.parametrize("era", ERAS)
async def test_truncate_cuts_the_text_with_a_marker_saying_how_much(era: str) -> None:
    async with asyncio.timeout(10), Client(make_server(), protocol=era) as client:
        result = await client.call_tool("cut")
        assert (await client.call_tool("small")).text == "fits"
        assert (await client.call_tool("unbudgeted")).text == BIG
    head, marker = texts(result.content)
    assert result.is_error is not True
    assert BIG.startswith(head) and head.endswith("\n")  # cut at a line's end
    assert content_size(result.content) <= 2048
    total = len(BIG.encode())
    cut = total - len(head.encode())
    assert marker == (
        f"[cut: {cut} of {total} bytes (about {cut // 4} tokens) left out to fit this "
        "tool's result budget of 2048 bytes]"
    )


@pytest.mark.parametrize("era", ERAS)
async def test_resource_moves_the_rest_where_the_caller_reads_it(era: str) -> None:
    async with asyncio.timeout(10), Client(make_server(), protocol=era) as client:
        result = await client.call_tool("moved")
        assert content_size(result.content) <= 2048  # tokens=512: 2048 bytes
        head, marker = texts(result.content)
        link = link_of(result.content)
        assert link.uri.startswith(RESULT_SCHEME) and link.uri.endswith("/1")
        assert "readable by this caller for 900 s" in marker
        (rest,) = await read_text(client, link.uri)
        assert link.size == len(rest.encode())
    assert head + rest == BIG


@pytest.mark.parametrize("era", ERAS)
async def test_paginate_chains_pages_of_the_budget_s_size(era: str) -> None:
    async with asyncio.timeout(10), Client(make_server(), protocol=era) as client:
        result = await client.call_tool("paged")
        (head, marker) = texts(result.content)
        assert "pages, the first linked below, each naming the next" in marker
        uri: str | None = link_of(result.content).uri
        parts = [head]
        while uri is not None:
            read = await read_text(client, uri)
            assert len(read[0].encode()) <= 2048
            parts.append(read[0])
            uri = read[1].rsplit(" ", 1)[1].rstrip("]") if len(read) == 2 else None
    assert "".join(parts) == BIG
    assert len(parts) > 3


@pytest.mark.parametrize("era", ERAS)
async def test_structured_content_is_never_cut(era: str) -> None:
    async with asyncio.timeout(10), Client(make_server(), protocol=era) as client:
        result = await client.call_tool("data")
        assert result.structured_content == {"text": BIG}  # whole: it must fit its schema
        head, _marker = texts(result.content)
        (rest,) = await read_text(client, link_of(result.content).uri)
    assert head + rest == '{"text":' + repr_json(BIG) + "}"


def repr_json(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False, separators=(",", ":"))


async def test_another_session_cannot_read_the_overflow() -> None:
    server = make_server()
    async with asyncio.timeout(10), Client(server, protocol="2025-11-25") as owner:
        uri = link_of((await owner.call_tool("moved")).content).uri
        async with Client(server, protocol="2025-11-25") as other:
            with pytest.raises(McpError, match="Resource not found"):
                await other.read_resource(uri)
        assert await read_text(owner, uri)  # its own session still can


async def test_without_session_or_auth_the_uri_itself_is_the_key() -> None:
    server = make_server()
    async with asyncio.timeout(10), Client(server, protocol="2026-07-28") as owner:
        uri = link_of((await owner.call_tool("moved")).content).uri
        assert len(uri.split("/")[2]) == 32  # 24 random bytes, URL-safe base64
    async with asyncio.timeout(10), Client(server, protocol="2026-07-28") as other:
        assert await read_text(other, uri)  # whoever was handed the link


async def test_one_overflow_keeps_at_most_its_share_and_says_what_it_left_out() -> None:
    server = Server("big")
    huge = "x" * (MAX_OVERFLOW_BYTES + 5000)

    @server.tool(max_result=ResultBudget(bytes=2048, overflow="resource"))
    def dump() -> str:
        return huge

    async with asyncio.timeout(10), Client(server, protocol="2025-11-25") as client:
        result = await client.call_tool("dump")
        (kept,) = await read_text(client, link_of(result.content).uri)
    assert len(kept) == MAX_OVERFLOW_BYTES
    lost = len(huge) - (2048 - MARKER_ROOM) - MAX_OVERFLOW_BYTES
    marker = texts(result.content)[-1]
    assert f"; {lost} bytes past what one result may keep were left out" in marker


class Down(MemoryKeyValueStore):
    """A store past its timeout (what `bounded` raises for one that does not answer)."""

    async def get(self, key: str) -> bytes | None:
        raise StoreUnavailable("the store at redis://127.0.0.1:1/0 did not answer within 1 s")

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        raise StoreUnavailable("the store at redis://127.0.0.1:1/0 did not answer within 1 s")


@pytest.mark.parametrize("era", ERAS)
async def test_a_store_outage_cuts_the_result_and_fails_a_read(era: str) -> None:
    server = make_server(mask_error_details=True)
    server.use_store(replace(as_stores(None), kv=Down()))
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        result = await client.call_tool("moved")  # the tool ran: its result is not lost
        assert result.is_error is not True and not any(
            isinstance(b, ResourceLink) for b in result.content
        )
        assert "the server's store could not be reached" in texts(result.content)[-1]
        with pytest.raises(McpError, match="store does not answer") as raised:
            await client.read_resource(f"{RESULT_SCHEME}{'k' * 32}/1")
        assert "127.0.0.1:1" not in str(raised.value)


@pytest.mark.parametrize("era", ERAS)
async def test_an_unknown_or_malformed_result_uri_is_not_found(era: str) -> None:
    async with asyncio.timeout(10), Client(make_server(), protocol=era) as client:
        uri = link_of((await client.call_tool("moved")).content).uri
        hostile = (uri[:-1] + "\u00b2", uri[:-1] + "9" * 5000)  # isdigit() but not int()-able
        for wrong in (
            uri[:-1] + "2",
            uri[:-1] + "x",
            RESULT_SCHEME + "nope/1",
            RESULT_SCHEME,
            *hostile,
        ):
            with pytest.raises(McpError, match="not found"):
                await client.read_resource(wrong)


@pytest.mark.parametrize("era", ERAS)
async def test_the_server_default_and_a_mounted_tool_s_overflow(era: str) -> None:
    inner = make_server(max_result=ResultBudget(bytes=2048, overflow="resource"))
    outer = Server("outer")
    outer.mount(inner, "in")
    async with asyncio.timeout(10), Client(outer, protocol=era) as client:
        result = await client.call_tool("in_unbudgeted")  # the inner server's default
        head, _marker = texts(result.content)
        (rest,) = await read_text(client, link_of(result.content).uri)  # read by the parent
    assert head + rest == BIG


async def test_an_image_that_does_not_fit_is_moved_whole() -> None:
    server = Server("images")
    data = "A" * 4000

    @server.tool(max_result=ResultBudget(bytes=2048, overflow="resource"))
    def pictures() -> list[ContentBlock]:
        return [TextContent(text="two pictures"), ImageContent(data=data, mime_type="image/png")]

    async with asyncio.timeout(10), Client(server) as client:
        result = await client.call_tool("pictures")
        assert texts(result.content)[0] == "two pictures"
        link = link_of(result.content)
        assert link.mime_type == "image/png"
        read = await client.read_resource(link.uri)
    (blob,) = read.contents
    assert getattr(blob, "blob", None) == data and blob.mime_type == "image/png"


@pytest.mark.parametrize(
    ("given", "error"),
    [
        (100, "at least 1024 bytes"),
        (ResultBudget, None),
        ("big", "must be a number of bytes or a ResultBudget"),
    ],
)
def test_a_bad_budget_is_refused_at_registration(given: object, error: str | None) -> None:
    server = Server("bad")
    if error is None:
        with pytest.raises(ValueError, match="one of bytes= and tokens="):
            ResultBudget(bytes=2048, tokens=512)
        with pytest.raises(ValueError, match="overflow must be"):
            ResultBudget(bytes=2048, overflow="drop")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="ttl must be"):
            ResultBudget(bytes=2048, ttl=0)
        with pytest.raises(ValueError, match="ttl must be"):  # past what a store keeps
            ResultBudget(bytes=2048, ttl=MAX_TTL * 2)
        return
    with pytest.raises((ValueError, TypeError), match=error):
        server.add_tool(lambda: None, name="f", max_result=given)  # type: ignore[arg-type]
    with pytest.raises((ValueError, TypeError), match=error):
        Server("bad", max_result=given)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def page(text: str) -> list[list[ContentBlock]]:
    return [[TextContent(text=text)]]


def kv_with(clock: Clock) -> MemoryKeyValueStore:
    return MemoryKeyValueStore(clock=clock)


async def test_the_store_is_bounded_in_count_and_bytes_and_entries_expire() -> None:
    clock = Clock()
    # Room for two small results, each with the overhead every entry counts, not for a large.
    store = ResultStore(kv_with(clock), "s", max_entries=2, max_bytes=400 + 2 * ENTRY_OVERHEAD)
    mine: tuple[str | None, str | None] = ("s1", None)
    first = await store.put(mine, 10, page("a" * 40))
    second = await store.put(mine, 10, page("b" * 40))
    assert first is not None and second is not None
    assert await store.put(mine, 10, page("c" * 40)) is None  # over the count: not kept
    assert await store.get(first, 1, mine) is not None  # (nothing kept was dropped for it)
    clock.now = 10.0
    assert await store.get(first, 1, mine) is None  # expired, and their room is free again
    third = await store.put(mine, 10, page("d" * 60))
    assert third is not None and await store.get(third, 1, mine) is not None
    assert await store.put(mine, 10, page("e" * 400)) is None  # over the bytes: not kept
    assert await store.put(mine, 10, page("f" * 60)) is not None  # (its slots were given back)


async def test_one_caller_cannot_take_the_room_of_others() -> None:
    store = ResultStore(MemoryKeyValueStore(), "s", max_entries=8, per_caller=2)
    greedy: tuple[str | None, str | None] = (None, "mallory")
    assert [await store.put(greedy, 60, page("x")) is not None for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert await store.put((None, "alice"), 60, page("y")) is not None
    anonymous: tuple[str | None, str | None] = (None, None)  # share half the server's count
    kept = [await store.put(anonymous, 60, page("z")) is not None for _ in range(5)]
    assert kept == [True, True, True, True, False]


async def test_only_the_owner_reads_an_entry() -> None:
    store = ResultStore(MemoryKeyValueStore(), "s")
    by_session = await store.put(("s1", None), 60, page("x"))
    by_token = await store.put((None, "alice"), 60, page("y"))
    by_both = await store.put(("s1", "alice"), 60, page("z"))
    assert by_session is not None and by_token is not None and by_both is not None
    assert await store.get(by_session, 1, ("s1", "bob")) is not None
    assert await store.get(by_session, 1, ("s2", None)) is None
    assert await store.get(by_token, 1, (None, "alice")) is not None
    assert await store.get(by_token, 1, ("s9", "bob")) is None
    assert await store.get(by_both, 1, ("s1", None)) is None
    assert await store.get(by_both, 1, ("s1", "alice")) == ([TextContent(text="z")], 1)
    assert await store.get(by_both, 2, ("s1", "alice")) is None


async def test_servers_sharing_a_store_keep_their_overflows_apart() -> None:
    kv = MemoryKeyValueStore()
    key = await ResultStore(kv, "a").put((None, None), 60, page("x"))
    assert key is not None and await ResultStore(kv, "a").get(key, 1, (None, None)) is not None
    assert await ResultStore(kv, "ab").get(key, 1, (None, None)) is None


async def test_a_redis_that_never_answers_fails_within_the_stores_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes what is sent, answers nothing, until the client leaves
        writer.close()

    hole = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = hole.sockets[0].getsockname()[1]
    stores = open_store(f"redis://127.0.0.1:{port}/0?timeout=0.5")
    try:
        store = ResultStore(stores.kv, "s")
        async with asyncio.timeout(20):  # (a bound on a hang; the store's own is 0.5 s)
            with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.5 s"):
                await store.put((None, None), 60, page("x"))
            with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.5 s"):
                await store.get("k" * 32, 1, (None, None))
            with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.5 s"):
                await approvals_of(stores).shown("t" * 43)
    finally:
        await stores.aclose()
        hole.close()
        await hole.wait_closed()
