"""2026-07-28 clients through a proxy of a session-era (2025-11-25) upstream: the upstream's
questions asked mid-call reach the client as InputRequiredResults, its retries answer them
and the upstream call goes on; the requestState is sealed, the pending calls bounded in
number and time; changes reach `subscriptions/listen` (docs/proxy.md, "Clients of
2026-07-28"). The 2026 client is raw JSON over the proxy's HTTP app, and the official SDK's
`Client` in its default mode."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import mcp_types
import pytest
from _proxying import everything_command
from _resource_helpers import ALICE, BOB, TableVerifier
from _serving import ACCEPT, WAIT, messages_of, serving
from mcp import Client as OfficialClient
from mcp.client.session import ClientRequestContext

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.errors import UrlElicitationRequired
from mcpkit.proxy import ProxyServer
from mcpkit.server.middleware import CallNext
from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

REV = "2026-07-28"
NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
FORM_AND_SAMPLING = {"elicitation": {"form": {}}, "sampling": {}}


class Upstream:
    """A 2025-era mcpkit server whose tools ask their client, and what it saw."""

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.blocking = asyncio.Event()
        self.server = server = Server("survey-upstream", "4.5.6", instructions="asks first")

        @server.tool()
        async def survey(topic: str, ctx: Context) -> str:
            """Ask a name, then a model, about `topic`."""
            await ctx.info(f"asking about {topic}")
            await ctx.progress(1, 2)
            answer = await ctx.elicit(f"Your name, for {topic}?", NAME_SCHEMA)
            assert answer.data is not None
            await ctx.progress(2, 2)
            sampled = await ctx.sample(f"a line on {topic} for {answer.data['name']}")
            text = sampled.content.text if isinstance(sampled.content, TextContent) else "?"
            return f"{answer.data['name']}: {text}"

        @server.tool()
        async def waits(ctx: Context) -> str:
            """Ask, and wait for the answer as long as it takes."""
            try:
                answer = await ctx.elicit("Still there?", NAME_SCHEMA)
                if answer.data is not None and answer.data["name"] == "block":
                    self.blocking.set()
                    await asyncio.Event().wait()  # until cancelled
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return "answered"

        @server.tool()
        def add(a: int, b: int) -> int:
            return a + b

        @server.tool()
        def grow() -> str:
            """Add a tool (the upstream then says its list changed)."""
            server.tool(name="grown")(lambda: "new")
            return "grown"

        @server.tool()
        async def touch() -> str:
            await server.notify_resource_updated("config://app")
            return "touched"

        self.connected = False

        @server.tool()
        def connect() -> str:
            """Needs the user to sign in at a URL first (-32042 until they have)."""
            if not self.connected:
                visit = {
                    "mode": "url",
                    "message": "Sign in",
                    "url": "https://example.com/in",
                    "elicitationId": "e1",
                }
                raise UrlElicitationRequired([visit])
            return "connected"

        @server.resource("config://app")
        def config() -> str:
            return "{}"


def request(rid: int, method: str, params: dict[str, Any] | None = None, **meta: Any) -> Any:
    """A 2026 request (body, headers): its terms in `_meta`, its method and name mirrored."""
    caps = meta.pop("caps", {})
    terms = {
        "io.modelcontextprotocol/protocolVersion": REV,
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "raw-2026", "version": "0"},
    }
    if "level" in meta:
        terms["io.modelcontextprotocol/logLevel"] = meta.pop("level")
    if "progress" in meta:
        terms["progressToken"] = meta.pop("progress")
    body_params = dict(params or {})
    body_params["_meta"] = terms
    headers = {
        "accept": ACCEPT,
        "content-type": "application/json",
        "mcp-protocol-version": REV,
        "mcp-method": method,
    }
    named = body_params.get("name") or body_params.get("uri")
    if method in ("tools/call", "prompts/get", "resources/read") and named:
        headers["mcp-name"] = named
    body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": body_params}
    return body, headers


async def post(client: httpx.AsyncClient, body_headers: Any) -> tuple[int, list[Any]]:
    body, headers = body_headers
    response = await client.post("/mcp", json=body, headers=headers)
    return response.status_code, messages_of(response)


def answer_of(messages: list[Any]) -> dict[str, Any]:
    (final,) = [m for m in messages if "result" in m or "error" in m]
    return final


def call(rid: int, name: str, arguments: dict[str, Any], **meta: Any) -> Any:
    return request(rid, "tools/call", {"name": name, "arguments": arguments}, **meta)


def retry(rid: int, name: str, arguments: dict[str, Any], state: str, answers: Any, **meta: Any):
    body, headers = call(rid, name, arguments, **meta)
    body["params"]["inputResponses"] = answers
    body["params"]["requestState"] = state
    return body, headers


async def test_a_2026_client_answers_the_upstreams_questions_round_by_round() -> None:
    upstream = Upstream()
    proxy = ProxyServer(upstream.server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            status, found = await post(client, request(1, "server/discover"))
            discovered = answer_of(found)["result"]
            assert status == 200 and REV in discovered["supportedVersions"]
            assert "2025-11-25" in discovered["supportedVersions"]
            assert discovered["capabilities"]["tools"] is not None
            assert discovered["instructions"] == "asks first"
            server_info = discovered["_meta"]["io.modelcontextprotocol/serverInfo"]
            assert server_info["name"] == "survey-upstream"

            _, listed = await post(client, request(2, "tools/list"))
            tools = answer_of(listed)["result"]
            assert {"survey", "add"} <= {t["name"] for t in tools["tools"]}
            assert tools["resultType"] == "complete" and "ttlMs" in tools

            args = {"topic": "tea"}
            first = call(3, "survey", args, caps=FORM_AND_SAMPLING, level="info", progress="p")
            _, round1 = await post(client, first)
            asking = answer_of(round1)["result"]
            assert asking["resultType"] == "input_required"
            ((key, question),) = asking["inputRequests"].items()
            assert question["method"] == "elicitation/create"
            assert question["params"]["message"] == "Your name, for tea?"
            assert question["params"]["requestedSchema"]["required"] == ["name"]
            assert "_meta" not in question["params"]

            answers = {key: {"action": "accept", "content": {"name": "Ada"}}}
            state = asking["requestState"]
            second = retry(4, "survey", args, state, answers, caps=FORM_AND_SAMPLING, progress=9)
            _, round2 = await post(client, second)
            sampling = answer_of(round2)["result"]
            assert sampling["resultType"] == "input_required"
            ((key2, question2),) = sampling["inputRequests"].items()
            assert key2 != key and question2["method"] == "sampling/createMessage"
            assert question2["params"]["messages"][0]["content"]["text"] == "a line on tea for Ada"

            sampled = {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"}
            third = retry(
                5, "survey", args, sampling["requestState"], {key2: sampled}, caps=FORM_AND_SAMPLING
            )
            _, round3 = await post(client, third)
            done = answer_of(round3)["result"]
            assert done["resultType"] == "complete" and done["content"][0]["text"] == "Ada: hi"
            meta = done["_meta"]["io.modelcontextprotocol/serverInfo"]
            assert meta["name"] == "survey-upstream"

            notes = [m for m in round1 + round2 + round3 if m.get("method")]
            logs = [m["params"]["data"] for m in notes if m["method"] == "notifications/message"]
            assert logs == ["asking about tea"]
            # Each round's progress under that round's own token.
            progress = [
                (m["params"]["progressToken"], m["params"]["progress"])
                for m in round1 + round2
                if m.get("method") == "notifications/progress"
            ]
            assert progress == [("p", 1), (9, 2)]
    assert len(proxy.round_trips) == 0 and all(link.holder is None for link in proxy.pool.links)


async def test_plain_requests_and_errors_keep_their_2026_shape() -> None:
    proxy = ProxyServer(Upstream().server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            _, added = await post(client, call(1, "add", {"a": 2, "b": 3}))
            assert answer_of(added)["result"]["structuredContent"] == {"result": 5}
            # No logLevel in _meta: no log messages at all (basic/index).
            _, quiet = await post(client, call(2, "survey", {"topic": "x"}, caps=FORM_AND_SAMPLING))
            assert not [m for m in quiet if m.get("method") == "notifications/message"]
            # The legacy era's -32002 is -32602 from 2026-07-28 on.
            status, missing = await post(client, request(3, "resources/read", {"uri": "nope://x"}))
            assert status == 400 and answer_of(missing)["error"]["code"] == -32602
            # Removed from 2026-07-28: refused as an unknown method.
            for rid, method in enumerate(["logging/setLevel", "ping", "tasks/list"], 4):
                status, removed = await post(client, request(rid, method, {"level": "info"}))
                assert status == 404 and answer_of(removed)["error"]["code"] == -32601


@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_the_upstreams_url_elicitation_error_is_a_round_of_its_own(action: str) -> None:
    # -32042 is gone from 2026-07-28: "visit these URLs, then retry" is an InputRequiredResult
    # there, and the proxy sends the call again once the client says it went.
    upstream = Upstream()
    proxy = ProxyServer(upstream.server)
    caps = {"elicitation": {"url": {}}}
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            form_only = {"elicitation": {"form": {}}}
            _, lacking = await post(client, call(0, "connect", {}, caps=form_only))
            error = answer_of(lacking)["error"]
            assert error["code"] == -32021
            assert error["data"]["requiredCapabilities"] == {"elicitation": {"url": {}}}
            _, found = await post(client, call(1, "connect", {}, caps=caps))
            asking = answer_of(found)["result"]
            ((key, visit),) = asking["inputRequests"].items()
            assert visit == {
                "method": "elicitation/create",
                "params": {"mode": "url", "message": "Sign in", "url": "https://example.com/in"},
            }
            upstream.connected = True  # (the user signed in at the URL)
            answers = {key: {"action": action}}
            _, done = await post(client, retry(2, "connect", {}, asking["requestState"], answers))
            if action == "accept":
                assert answer_of(done)["result"]["content"][0]["text"] == "connected"
            else:
                assert answer_of(done)["error"]["code"] == -32042
    assert len(proxy.round_trips) == 0


async def test_middleware_wraps_each_round_of_a_2026_request() -> None:
    seen: list[tuple[str, str]] = []

    async def record(ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        kind = result.get("resultType") if isinstance(result, dict) else type(result).__name__
        seen.append((ctx.method, str(kind)))
        return result

    proxy = ProxyServer(Upstream().server, middleware=[record])
    caps = {"elicitation": {}}
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            _, found = await post(client, call(1, "waits", {}, caps=caps))
            asking = answer_of(found)["result"]
            (key,) = asking["inputRequests"]
            answers = {key: {"action": "accept", "content": {"name": "Ada"}}}
            _, done = await post(
                client, retry(2, "waits", {}, asking["requestState"], answers, caps=caps)
            )
            assert answer_of(done)["result"]["content"][0]["text"] == "answered"
    assert seen == [("tools/call", "input_required"), ("tools/call", "CallToolResult")]


async def test_requests_that_come_at_once_open_one_upstream_session() -> None:
    proxy = ProxyServer(Upstream().server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            answers = await asyncio.gather(
                *(post(client, request(rid, "tools/list")) for rid in range(6))
            )
            assert all(status == 200 for status, _ in answers)
            assert len(proxy.pool.links) == 1


async def test_the_upstream_sees_what_the_client_declares() -> None:
    """The call's upstream session declares the client's own capabilities: a client without
    elicitation gets what the upstream answers such a client (here, its tool's error), and
    a client that declares it is asked."""
    proxy = ProxyServer(Upstream().server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            status, found = await post(client, call(1, "survey", {"topic": "tea"}))
            result = answer_of(found)["result"]
            assert status == 200 and result["isError"] is True
            assert "did not declare the 'elicitation' capability" in result["content"][0]["text"]
            _, found = await post(
                client, call(2, "survey", {"topic": "tea"}, caps=FORM_AND_SAMPLING)
            )
            assert answer_of(found)["result"]["resultType"] == "input_required"
            assert len(proxy.pool.links) == 2  # one per set of capabilities
    assert len(proxy.round_trips) == 0


async def test_the_request_state_is_sealed_bound_and_of_the_latest_round() -> None:
    proxy = ProxyServer(Upstream().server)
    args = {"topic": "tea"}
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            _, round1 = await post(client, call(1, "survey", args, caps=FORM_AND_SAMPLING))
            asking = answer_of(round1)["result"]
            state = asking["requestState"]
            (key,) = asking["inputRequests"]
            answers = {key: {"action": "accept", "content": {"name": "Ada"}}}

            version, payload, mac = state.split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["c"]["call"] = "someone-else's"
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            for bad, why in [
                (f"{version}.{forged}.{mac}", "altered"),
                ("not-a-state", "not one this server issued"),
            ]:
                status, refused = await post(
                    client, retry(2, "survey", args, bad, answers, caps=FORM_AND_SAMPLING)
                )
                error = answer_of(refused)["error"]
                assert status == 400 and error["code"] == -32602 and why in error["message"]
            other = {"topic": "coffee"}  # the state is bound to the request it was made for
            _, refused = await post(
                client, retry(3, "survey", other, state, answers, caps=FORM_AND_SAMPLING)
            )
            assert "another request" in answer_of(refused)["error"]["message"]

            _, round2 = await post(
                client, retry(4, "survey", args, state, answers, caps=FORM_AND_SAMPLING)
            )
            assert answer_of(round2)["result"]["resultType"] == "input_required"
            _, stale = await post(
                client, retry(5, "survey", args, state, answers, caps=FORM_AND_SAMPLING)
            )
            assert "earlier round" in answer_of(stale)["error"]["message"]


async def test_a_call_whose_client_never_retries_is_cancelled_upstream() -> None:
    upstream = Upstream()
    proxy = ProxyServer(upstream.server, input_timeout=0.2)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            caps = {"elicitation": {}}
            _, found = await post(client, call(1, "waits", {}, caps=caps))
            asking = answer_of(found)["result"]
            await upstream.cancelled.wait()  # input_timeout passed: cancelled upstream
            assert len(proxy.round_trips) == 0
            (key,) = asking["inputRequests"]
            late = retry(2, "waits", {}, asking["requestState"], {key: {"action": "cancel"}})
            status, refused = await post(client, late)
            error = answer_of(refused)["error"]
            assert status == 400 and "no longer pending" in error["message"]
            assert "input_timeout" in error["message"]
            _, added = await post(client, call(3, "add", {"a": 1, "b": 1}))
            assert answer_of(added)["result"]["structuredContent"] == {"result": 2}


async def test_a_client_that_leaves_a_round_abandons_the_call() -> None:
    upstream = Upstream()
    proxy = ProxyServer(upstream.server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            caps = {"elicitation": {}}
            _, found = await post(client, call(1, "waits", {}, caps=caps))
            asking = answer_of(found)["result"]
            (key,) = asking["inputRequests"]
            answers = {key: {"action": "accept", "content": {"name": "block"}}}
            second = retry(2, "waits", {}, asking["requestState"], answers, caps=caps)
            leaving = asyncio.create_task(post(client, second))
            await upstream.blocking.wait()
            leaving.cancel()  # the client closes its connection mid-round
            with contextlib.suppress(asyncio.CancelledError):
                await leaving
            await upstream.cancelled.wait()
            assert len(proxy.round_trips) == 0


async def test_pending_calls_are_bounded_by_max_modern_upstreams() -> None:
    proxy = ProxyServer(Upstream().server, max_modern_upstreams=1)
    args = {"topic": "tea"}
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            _, found = await post(client, call(1, "survey", args, caps=FORM_AND_SAMPLING))
            asking = answer_of(found)["result"]
            _, full = await post(client, call(2, "survey", args, caps=FORM_AND_SAMPLING))
            error = answer_of(full)["error"]
            assert error["code"] == -32603 and "max_modern_upstreams" in error["message"]
            # A call that might ask needs an upstream session of its own; a request that
            # cannot ask shares the busy one.
            _, busy = await post(client, call(3, "add", {"a": 1, "b": 2}))
            assert "max_modern_upstreams" in answer_of(busy)["error"]["message"]
            _, listed = await post(client, request(6, "tools/list"))
            assert "add" in {t["name"] for t in answer_of(listed)["result"]["tools"]}
            (key,) = asking["inputRequests"]
            answers = {key: {"action": "decline"}}
            state = asking["requestState"]
            await post(client, retry(4, "survey", args, state, answers, caps=FORM_AND_SAMPLING))
            _, freed = await post(client, call(5, "survey", args, caps=FORM_AND_SAMPLING))
            assert answer_of(freed)["result"]["resultType"] == "input_required"
    assert len(proxy.pool.links) == 0  # closed with the app's lifespan


async def test_upstream_changes_reach_subscriptions_listen() -> None:
    proxy = ProxyServer(Upstream().server)
    wanted = {"toolsListChanged": True, "resourceSubscriptions": ["config://app"]}
    listen_body, listen_headers = request(1, "subscriptions/listen", {"notifications": wanted})
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
            async with client.stream(
                "POST", "/mcp", json=listen_body, headers=listen_headers
            ) as stream:
                events = _events(stream)
                acknowledged = await anext(events)
                assert acknowledged["method"] == "notifications/subscriptions/acknowledged"
                assert acknowledged["params"]["notifications"] == wanted
                await post(client, call(2, "grow", {}))
                changed = await anext(events)
                assert changed["method"] == "notifications/tools/list_changed"
                assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 1
                await post(client, call(3, "touch", {}))
                updated = await anext(events)
                assert updated["method"] == "notifications/resources/updated"
                assert updated["params"]["uri"] == "config://app"
            _, listed = await post(client, request(4, "tools/list"))
            assert "grown" in {t["name"] for t in answer_of(listed)["result"]["tools"]}


async def _events(stream: httpx.Response) -> AsyncIterator[Any]:
    async for line in stream.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])


async def test_2025_and_2026_clients_share_one_proxy() -> None:
    proxy = ProxyServer(Upstream().server)

    def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Bob"})

    def sample(params: Any) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="yo"), model="m")

    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        session_era = Client(
            base + "/mcp",
            elicitation_handler=elicit,
            sampling_handler=sample,
            protocol="2025-11-25",
        )
        async with session_era, httpx.AsyncClient(base_url=base) as raw:
            assert session_era.protocol_version == "2025-11-25"
            _, round1 = await post(raw, call(1, "survey", {"topic": "t"}, caps=FORM_AND_SAMPLING))
            result = await session_era.call_tool("survey", {"topic": "t"})
            assert result.content[0].text == "Bob: yo"  # type: ignore[union-attr]
            assert answer_of(round1)["result"]["resultType"] == "input_required"
            assert len(proxy.links) == 1 and len(proxy.pool.links) == 1


@pytest.mark.parametrize("mode", ["auto", "2026-07-28"])
async def test_the_official_client_through_the_proxy(mode: str) -> None:
    asked: list[str] = []

    async def elicit(
        context: ClientRequestContext, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"name": "Grace"})

    async def sample(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult:
        asked.append("sampling")
        text = mcp_types.TextContent(type="text", text="compiled")
        return mcp_types.CreateMessageResult(role="assistant", content=text, model="m")

    proxy = ProxyServer(Upstream().server)
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        client = OfficialClient(
            base + "/mcp", mode=mode, elicitation_callback=elicit, sampling_callback=sample
        )
        async with client:
            assert client.protocol_version == REV
            result = await client.call_tool("survey", {"topic": "ships"})
            assert result.content[0].text == "Grace: compiled"  # type: ignore[union-attr]
            assert asked == ["Your name, for ships?", "sampling"]
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"survey", "add"} <= names


async def test_the_official_client_through_a_proxy_of_a_stdio_server() -> None:
    # examples/everything.py in a process of its own: form and URL elicitation, sampling
    # with tools, roots, each asked mid-call of a 2025 session, answered in 2026 rounds.
    asked: list[str] = []

    async def elicit(
        context: ClientRequestContext, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult:
        if isinstance(params, mcp_types.ElicitRequestURLParams):
            asked.append("url " + params.url)
            return mcp_types.ElicitResult(action="accept")
        asked.append("form")
        return mcp_types.ElicitResult(action="accept", content={"name": "Lin", "age": 7})

    async def sample(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult:
        asked.append(f"sampling with {len(params.tools or [])} tool")
        text = mcp_types.TextContent(type="text", text="42")
        return mcp_types.CreateMessageResult(role="assistant", content=text, model="m")

    async def list_roots(context: ClientRequestContext) -> mcp_types.ListRootsResult:
        asked.append("roots")
        return mcp_types.ListRootsResult(roots=[mcp_types.Root(uri="file:///work", name="w")])

    proxy = ProxyServer(everything_command(), stderr="devnull")
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        client = OfficialClient(
            base + "/mcp",
            elicitation_callback=elicit,
            sampling_callback=sample,
            sampling_capabilities=mcp_types.SamplingCapability(
                tools=mcp_types.SamplingToolsCapability()
            ),
            list_roots_callback=list_roots,
        )
        async with client:
            assert client.protocol_version == REV
            assert client.server_info is not None and client.server_info.name == "everything"
            texts = []
            for tool in ("sign_up", "ask_model", "roots", "connect_account"):
                arguments = {"question": "?"} if tool == "ask_model" else {}
                result = await client.call_tool(tool, arguments)
                texts.append(result.content[0].text)  # type: ignore[union-attr]
    assert texts[:2] == ["Lin, 7, green, m, [], False", "42"]
    assert "file:///work" in texts[2] and texts[3] == "connect: accept"
    assert asked == ["form", "sampling with 1 tool", "roots", "url https://example.com/connect"]


async def test_behind_auth_a_pending_call_is_its_callers_alone() -> None:
    auth = ProtectedResource(verifier=TableVerifier(), required_scopes=["mcp"])
    proxy = ProxyServer(Upstream().server, auth=auth)
    caps = {"elicitation": {}}
    async with asyncio.timeout(WAIT), serving(proxy.http_app()) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            body, headers = call(1, "waits", {}, caps=caps)
            refused = await client.post("/mcp", json=body, headers=headers)
            assert refused.status_code == 401 and len(proxy.pool.links) == 0

            def as_user(token: str, request: Any) -> Any:
                body, headers = request
                return body, {**headers, "authorization": f"Bearer {token}"}

            _, found = await post(client, as_user(ALICE, call(1, "waits", {}, caps=caps)))
            asking = answer_of(found)["result"]
            (key,) = asking["inputRequests"]
            answers = {key: {"action": "accept", "content": {"name": "Ada"}}}
            state = asking["requestState"]
            stolen = as_user(BOB, retry(2, "waits", {}, state, answers, caps=caps))
            status, denied = await post(client, stolen)
            assert status == 400 and "another user" in answer_of(denied)["error"]["message"]
            own = as_user(ALICE, retry(3, "waits", {}, state, answers, caps=caps))
            _, done = await post(client, own)
            assert answer_of(done)["result"]["content"][0]["text"] == "answered"
