"""Property test through the real Server: random params for every client method. Each
request gets exactly one well-formed answer (a result or a JSON-RPC error, never a crash or
silence) and the session still answers ping afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit import Context, Server
from mcpkit.testing import raw_session
from mcpkit.types.methods import SUPPORTED_REVISIONS, methods_for

# Every method of every revision, whoever sends it and whether or not this server implements
# it (tasks/*, sampling/*, notifications sent with an id): none may be an internal error.
ALL_METHODS = sorted(
    {name for revision in SUPPORTED_REVISIONS for name in methods_for(revision)}
    | {"ping", "no/such/method"}
)

scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.sampled_from(["add", "echo", "note", "review", "missing", "", "x" * 200])
uris = st.sampled_from(
    ["notes://a", "notes://", "notes://a/b", "config://app", "nope", "", "notes://%ZZ"]
)
params = st.one_of(
    st.none(),
    values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": names | scalars,
            "arguments": st.dictionaries(
                st.sampled_from(["a", "b", "text", "code", "extra"]), values, max_size=3
            )
            | values,
            "uri": uris | scalars,
            "cursor": st.text(max_size=8) | scalars,
            "level": st.sampled_from(["debug", "info", "loud"]) | scalars,
            "ref": st.fixed_dictionaries(
                {"type": st.sampled_from(["ref/prompt", "ref/resource", "ref/other"])},
                optional={"name": names, "uri": st.sampled_from(["notes://{name}", "nope"])},
            )
            | values,
            "argument": st.fixed_dictionaries(
                {"name": st.text(max_size=5), "value": st.text(max_size=5)}
            )
            | values,
            "_meta": st.dictionaries(st.sampled_from(["progressToken", "x"]), values, max_size=2),
        },
    ),
)


def make_server() -> Server:
    server = Server("fuzzed", page_size=1)

    @server.tool()
    async def add(a: int, b: int, ctx: Context) -> int:
        await ctx.progress(1, total=1)
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.resource("config://app", mime_type="application/json")
    def config() -> dict[str, int]:
        return {"x": 1}

    @server.resource("notes://{name}")
    def note(name: str) -> str:
        return {"a": "A"}[name]

    @server.prompt()
    def review(code: str) -> str:
        return code

    return server


SERVER = make_server()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(SUPPORTED_REVISIONS),
    st.lists(st.tuples(st.sampled_from(ALL_METHODS), params), min_size=1, max_size=5),
)
def test_every_request_gets_one_answer_and_the_session_survives(
    revision: str, calls: list[tuple[str, Any]]
) -> None:
    async def run() -> None:
        async with raw_session(SERVER, protocol_version=revision, timeout=5) as peer:
            for i, (method, p) in enumerate(calls):
                message: dict[str, Any] = {"jsonrpc": "2.0", "id": i, "method": method}
                if p is not None:
                    message["params"] = p
                await peer.send(message)
                reply = await peer.response_to(i)
                assert ("result" in reply) != ("error" in reply), reply
                if "error" in reply:
                    assert isinstance(reply["error"]["code"], int)
                    assert reply["error"]["code"] != -32603, reply  # no internal errors
                    assert reply["error"]["message"]
            assert (await peer.request("ping"))["result"] == {}

    asyncio.run(asyncio.wait_for(run(), 30))


def test_every_method_of_every_revision_is_answered_without_an_internal_error() -> None:
    """Each method once, with no params and with empty params, in every revision."""

    async def run(revision: str) -> None:
        async with raw_session(SERVER, protocol_version=revision, timeout=5) as peer:
            no_params: tuple[dict[str, Any] | None, ...] = (None, {})
            for i, method in enumerate(ALL_METHODS):
                for j, p in enumerate(no_params):
                    message: dict[str, Any] = {
                        "jsonrpc": "2.0",
                        "id": 2 * i + j + 10,
                        "method": method,
                    }
                    if p is not None:
                        message["params"] = p
                    await peer.send(message)
                    reply = await peer.response_to(2 * i + j + 10)
                    assert reply.get("error", {}).get("code") != -32603, (method, reply)
            assert (await peer.request("ping"))["result"] == {}

    for revision in SUPPORTED_REVISIONS:
        asyncio.run(asyncio.wait_for(run(revision), 30))


def test_unimplemented_methods_are_method_not_found() -> None:
    async def run() -> None:
        async with raw_session(SERVER, timeout=5) as peer:
            for i, method in enumerate(
                ["tasks/get", "tasks/list", "tasks/result", "tasks/cancel", "no/such/method"]
            ):
                await peer.send(
                    {"jsonrpc": "2.0", "id": i, "method": method, "params": {"taskId": "t"}}
                )
                error = (await peer.response_to(i))["error"]
                assert error["code"] == -32601, error
                assert method in error["message"]

    asyncio.run(asyncio.wait_for(run(), 30))
