"""2026-07-28 served beside 2025-11-25 by one Server: requests that carry their own terms
(basic/index "_meta"), server/discover, the 2026 result shape, errors, logging per request,
multi round-trip requests (basic/patterns/mrtr) and subscriptions/listen, over the in-memory
transport with raw JSON-RPC (what the transport under it carries is the same over stdio)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import msgspec
import pytest

from mcpkit import Context, Server
from mcpkit.protocol.modern import CachePolicy
from mcpkit.testing import raw_session

REVISION = "2026-07-28"
ALL_CAPS: dict[str, Any] = {"sampling": {}, "elicitation": {"form": {}}, "roots": {}}
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def modern(
    params: dict[str, Any] | None = None,
    *,
    caps: dict[str, Any] | None = None,
    level: str | None = None,
    version: str = REVISION,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": ALL_CAPS if caps is None else caps,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
    }
    if level is not None:
        meta["io.modelcontextprotocol/logLevel"] = level
    return {**(params or {}), "_meta": meta}


def make_server(**options: Any) -> Server:
    server = Server("both-eras", version="2.0", instructions="hello", **options)

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def plan_trip(city: str, ctx: Context) -> str:
        """Ask who travels, then ask the LLM for a plan."""
        who = await ctx.elicit(f"Who goes to {city}?", NAME)
        plan = await ctx.sample(f"Plan a day in {city} for {who.data['name']}", max_tokens=50)
        return f"{who.data['name']}: {getattr(plan.content, 'text', '')}"

    @server.tool()
    async def chatty(ctx: Context) -> str:
        """Log at three levels."""
        await ctx.debug("debug line")
        await ctx.warning("warning line")
        await ctx.error("error line")
        return "done"

    @server.resource("notes://one", mime_type="text/plain")
    def note() -> str:
        return "one"

    return server


def answer_elicit(name: str) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": name}}


def answer_sample(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": text}, "model": "m"}


async def test_discover_names_both_eras_and_the_server() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        reply = await peer.request("server/discover", modern())
    result = reply["result"]
    assert result["supportedVersions"][:2] == [REVISION, "2025-11-25"]
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"] == {
        "name": "both-eras",
        "version": "2.0",
    }
    assert result["instructions"] == "hello"
    assert result["ttlMs"] == 0 and result["cacheScope"] == "private"
    assert "tools" in result["capabilities"] and "tasks" not in result["capabilities"]


async def test_a_request_with_its_own_terms_needs_no_handshake() -> None:
    policy = CachePolicy(
        ttl_ms=5000, scope="public", per_method={"tools/list": (60_000, "private")}
    )
    async with raw_session(make_server(cache=policy), initialize=False) as peer:
        listed = (await peer.request("tools/list", modern()))["result"]
        called = (
            await peer.request("tools/call", modern({"name": "add", "arguments": {"a": 2, "b": 3}}))
        )["result"]
        read = (await peer.request("resources/read", modern({"uri": "notes://one"})))["result"]
    assert [t["name"] for t in listed["tools"]] == ["add", "plan_trip", "chatty"]  # as registered
    assert (listed["ttlMs"], listed["cacheScope"]) == (60_000, "private")
    assert (read["ttlMs"], read["cacheScope"]) == (5000, "public")
    assert called["structuredContent"] == {"result": 5} and called["resultType"] == "complete"
    assert "ttlMs" not in called  # a call is not cacheable
    assert called["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "both-eras"


async def test_a_2025_session_is_answered_as_before() -> None:
    async with raw_session(make_server()) as peer:
        called = await peer.request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
        missing = await peer.request("resources/read", {"uri": "notes://none"})
    assert "resultType" not in called["result"] and "_meta" not in called["result"]
    assert missing["error"]["code"] == -32002  # 2025-11-25's resource-not-found


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"_meta": {"io.modelcontextprotocol/protocolVersion": REVISION}}, -32602),
        ({"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}}, -32602),
        (
            {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": 7,
                    "io.modelcontextprotocol/clientCapabilities": {},
                }
            },
            -32602,
        ),
        (modern(caps={"sampling": 5}), -32602),  # malformed capabilities
        (modern(level="loud"), -32602),  # not a logging level
        (modern(version="2099-01-01"), -32022),
        (None, -32602),  # server/discover without any _meta
    ],
)
async def test_malformed_terms_are_refused_with_their_code(params: Any, code: int) -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        reply = await peer.request("server/discover", params, id="x")
    assert reply["id"] == "x" and reply["error"]["code"] == code
    if code == -32022:
        assert reply["error"]["data"]["supported"][0] == REVISION
        assert reply["error"]["data"]["requested"] == "2099-01-01"


@pytest.mark.parametrize(
    "method", ["ping", "initialize", "logging/setLevel", "resources/subscribe"]
)
async def test_methods_2026_removed_are_unknown_there(method: str) -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        reply = await peer.request(method, modern({"level": "info", "uri": "notes://one"}))
    assert reply["error"]["code"] == -32601


async def test_resource_not_found_is_invalid_params_under_2026() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        reply = await peer.request("resources/read", modern({"uri": "notes://none"}))
    assert reply["error"]["code"] == -32602


async def test_log_messages_only_at_the_level_the_request_asked_for() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        await peer.request("tools/call", modern({"name": "chatty", "arguments": {}}))
        await peer.request(
            "tools/call", modern({"name": "chatty", "arguments": {}}, level="warning")
        )
        logged: list[Any] = []
        while peer._stash:  # what arrived before each answer, in order
            message = await peer.receive()
            if message.get("method") == "notifications/message":
                logged.append(message["params"]["level"])
    assert logged == ["warning", "error"]  # none for the first call, which named no level


# ------------------------------------------------------------- multi round-trip


async def call(peer: Any, params: dict[str, Any], **meta: Any) -> dict[str, Any]:
    reply = await peer.request("tools/call", modern(params, **meta))
    assert "result" in reply, reply
    result: dict[str, Any] = reply["result"]
    return result


async def test_a_tool_that_elicits_then_samples_takes_three_rounds() -> None:
    trip = {"name": "plan_trip", "arguments": {"city": "Lyon"}}
    async with raw_session(make_server(), initialize=False) as peer:
        first = await call(peer, trip)
        assert first["resultType"] == "input_required"
        ((key, question),) = first["inputRequests"].items()
        assert question["method"] == "elicitation/create"
        assert question["params"]["message"] == "Who goes to Lyon?"
        second = await call(
            peer,
            {
                **trip,
                "inputResponses": {key: answer_elicit("Ada")},
                "requestState": first["requestState"],
            },
        )
        assert second["resultType"] == "input_required"
        ((key2, question2),) = second["inputRequests"].items()
        assert question2["method"] == "sampling/createMessage" and key2 != key
        # Only the newest answer is sent: the first travels in the state.
        done = await call(
            peer,
            {
                **trip,
                "inputResponses": {key2: answer_sample("museums")},
                "requestState": second["requestState"],
            },
        )
    assert done["resultType"] == "complete"
    assert done["content"][0]["text"] == "Ada: museums"


async def test_the_same_tool_asks_over_a_2025_session() -> None:
    from mcpkit.testing import connected
    from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

    async def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    async def sample(params: Any) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="museums"), model="m")

    server = make_server()
    async with connected(server, elicitation_handler=elicit, sampling_handler=sample) as client:
        result = await client.call_tool("plan_trip", {"city": "Lyon"})
    assert result.content[0].text == "Ada: museums"  # type: ignore[union-attr]


def tamper(state: str) -> str:
    version, payload, mac = state.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["c"]["a"]["q1"] = answer_elicit("Mallory")
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{version}.{forged}.{mac}"


async def test_request_state_that_was_changed_or_misused_is_refused() -> None:
    trip = {"name": "plan_trip", "arguments": {"city": "Lyon"}}
    server = make_server(request_state_key="k" * 32)
    async with raw_session(server, initialize=False) as peer:
        first = await call(peer, trip)
        second = await call(
            peer,
            {
                **trip,
                "inputResponses": {"q1": answer_elicit("Ada")},
                "requestState": first["requestState"],
            },
        )
        state = second["requestState"]
        refusals = {
            "tampered": {**trip, "requestState": tamper(state)},
            "truncated": {**trip, "requestState": state[:-3]},
            "garbage": {**trip, "requestState": "not a state"},
            "other call": {
                "name": "plan_trip",
                "arguments": {"city": "Paris"},
                "requestState": state,
            },
        }
        for why, params in refusals.items():
            reply = await peer.request("tools/call", modern(params))
            assert reply["error"]["code"] == -32602, why
            assert "requestState" in reply["error"]["message"], why
    # Another server with another key (a replica without the shared key) refuses it too.
    other = make_server(request_state_key="z" * 32)
    async with raw_session(other, initialize=False) as peer:
        reply = await peer.request("tools/call", modern({**trip, "requestState": state}))
    assert reply["error"]["code"] == -32602


async def test_request_state_expires() -> None:
    now = [1000.0]
    server = make_server(request_state_key="k" * 32, request_state_ttl=60)
    server.state_seal.clock = lambda: now[0]
    trip = {"name": "plan_trip", "arguments": {"city": "Lyon"}}
    async with raw_session(server, initialize=False) as peer:
        first = await call(peer, trip)
        now[0] += 61
        reply = await peer.request(
            "tools/call",
            modern(
                {
                    **trip,
                    "inputResponses": {"q1": answer_elicit("A")},
                    "requestState": first["requestState"],
                }
            ),
        )
    assert reply["error"]["code"] == -32602 and "expired" in reply["error"]["message"]


async def test_a_question_for_an_undeclared_capability_is_32021() -> None:
    trip = {"name": "plan_trip", "arguments": {"city": "Lyon"}}
    async with raw_session(make_server(), initialize=False) as peer:
        reply = await peer.request("tools/call", modern(trip, caps={"sampling": {}}))
    error = reply["error"]
    assert error["code"] == -32021
    assert error["data"] == {"requiredCapabilities": {"elicitation": {}}}


async def test_questions_asked_together_go_out_together_past_a_broad_except() -> None:
    server = make_server()

    @server.tool()
    async def three(ctx: Context) -> str:
        """Ask three things at once, inside a broad except."""
        try:
            who, said, roots = await asyncio.gather(
                ctx.elicit("Name?", NAME, key="who"),
                ctx.sample("Hi", max_tokens=5, key="said"),
                ctx.list_roots(key="roots"),
            )
        except Exception:
            return "swallowed"
        return f"{who.data['name']} {getattr(said.content, 'text', '')} {len(roots)}"

    async with raw_session(server, initialize=False) as peer:
        first = await call(peer, {"name": "three", "arguments": {}})
        assert sorted(first["inputRequests"]) == ["roots", "said", "who"]
        answers = {
            "who": answer_elicit("Ada"),
            "said": answer_sample("hello"),
            "roots": {"roots": [{"uri": "file:///a"}]},
            "unasked": answer_elicit("ignored"),
        }
        done = await call(
            peer,
            {
                "name": "three",
                "arguments": {},
                "inputResponses": answers,
                "requestState": first["requestState"],
            },
        )
    assert done["content"][0]["text"] == "Ada hello 1"


async def test_a_tool_that_asks_something_else_on_replay_fails_loudly() -> None:
    server = make_server()
    runs = [0]

    @server.tool()
    async def fickle(ctx: Context) -> str:
        """Asks a different question each run: breaks the replay rule."""
        runs[0] += 1
        first = await ctx.elicit(f"Question {runs[0]}?", NAME)
        await ctx.elicit("Second?", NAME)
        return str(first.data)

    async with raw_session(server, initialize=False) as peer:
        first = await call(peer, {"name": "fickle", "arguments": {}})
        # Run 2 asks "Question 2?" where run 1 asked "Question 1?", which was answered.
        reply = await peer.request(
            "tools/call",
            modern(
                {
                    "name": "fickle",
                    "arguments": {},
                    "inputResponses": {"q1": answer_elicit("A")},
                    "requestState": first["requestState"],
                }
            ),
        )
    assert reply["error"]["code"] == -32603
    assert "same questions in the same order" in reply["error"]["message"]


async def test_an_unusable_answer_asks_again() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        again = await call(
            peer,
            {
                "name": "plan_trip",
                "arguments": {"city": "Lyon"},
                "inputResponses": {"q1": {"roots": []}},
            },
        )
    assert again["resultType"] == "input_required" and "q1" in again["inputRequests"]


async def test_list_tools_never_answers_input_required() -> None:
    async with raw_session(make_server(), initialize=False) as peer:
        listed = (
            await call(peer, {})
            if False
            else (await peer.request("tools/list", modern()))["result"]
        )
    assert listed["resultType"] == "complete"


# ------------------------------------------------------------- subscriptions/listen


async def test_listen_acknowledges_then_sends_what_was_asked_for() -> None:
    server = make_server()
    async with raw_session(server, initialize=False) as peer:
        await peer.send(
            {
                "jsonrpc": "2.0",
                "id": "sub-1",
                "method": "subscriptions/listen",
                "params": modern(
                    {"notifications": {"toolsListChanged": True, "promptsListChanged": True}}
                ),
            }
        )
        ack = await peer.receive()
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-1"
        # Only what the server declares listChanged for (it has no prompts).
        assert ack["params"]["notifications"] == {"toolsListChanged": True}
        server.add_tool(lambda: "new", name="fresh")
        server.add_resource(lambda: "x", uri="notes://two")  # not asked for: not sent
        server.add_tool(lambda: "newer", name="fresher")
        changed = await peer.receive()
        assert changed["method"] == "notifications/tools/list_changed"
        assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-1"
        await peer.notify("notifications/cancelled", {"requestId": "sub-1"})
        # The listen ended: a later change reaches nobody, and the server still answers.
        server.add_tool(lambda: "late", name="late")
        assert (await peer.request("tools/list", modern()))["result"]["resultType"] == "complete"
        stray = [m for m in peer._stash if m.get("method") == "notifications/tools/list_changed"]
        assert len(stray) <= 1  # the second add may coalesce with the first
    assert len(server.listeners) == 0


def test_header_mirroring_options_are_checked() -> None:
    server = Server("h")

    def run(region: str, limit: float = 1.0) -> str:
        return region

    server.add_tool(run, headers={"region": "Region"})
    spec = server.tools.get("run")
    assert spec is not None
    assert spec.wire.input_schema["properties"]["region"]["x-mcp-header"] == "Region"
    for bad, why in (
        ({"limit": "Limit"}, "only string, integer and boolean"),
        ({"nope": "Nope"}, "no argument"),
        ({"region": "Bad Header"}, "token"),
    ):
        with pytest.raises(TypeError, match=why):
            Server("h").add_tool(run, headers=bad)
    assert b'"x-mcp-header":"Region"' in msgspec.json.encode(spec.wire)


async def test_the_terms_cache_is_bounded_in_bytes_whatever_peers_send() -> None:
    big = "x" * 100_000
    server = make_server()
    async with raw_session(server, initialize=False) as peer:
        for i in range(300):
            pad = {"v": big + str(i)} if i % 2 else {"n": i}
            meta_caps = {"experimental": {"pad": pad}}
            reply = await peer.request("tools/list", modern(caps=meta_caps))
            assert reply["result"]["resultType"] == "complete"
    cached = server._protocols.codec.cached_metas  # pyright: ignore[reportPrivateUsage]
    assert len(cached) <= 256
    assert sum(len(raw) for raw in cached) <= 256 * 4096
