"""Per-session visibility (`ctx.enable_components()` / `ctx.disable_components()`, 2025
sessions) and per-request rules (`server.add_visibility_rule`, both eras): hidden means
neither listed nor usable (docs/compose.md, "Tags and visibility")."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from _heard import list_changes

from mcpkit import Client, Context, McpError, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.server.catalog.visibility.rules import Component
from mcpkit.stores.component_rules import ComponentRule
from mcpkit.stores.sessions import SessionRecord, decode_record, encode_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def switchboard() -> Server:
    server = Server("switchboard")

    @server.tool(tags={"admin"})
    def wipe() -> str:
        return "wiped"

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool()
    async def hide_admin(ctx: Context) -> str:
        await ctx.disable_components(tags={"admin"})
        return "hidden"

    @server.tool()
    async def show_admin(ctx: Context) -> str:
        await ctx.enable_components(tags={"admin"})
        return "shown"

    @server.prompt(tags={"admin"})
    def audit() -> str:
        return "audit"

    @server.resource("notes://admin", tags={"admin"})
    def admin_notes() -> str:
        return "secret"

    return server


async def names(client: Client) -> tuple[list[str], list[str], list[str]]:
    return (
        sorted(t.name for t in await client.list_tools()),
        sorted(p.name for p in await client.list_prompts()),
        sorted(r.uri for r in await client.list_resources()),
    )


async def test_a_session_hides_components_for_itself_alone() -> None:
    server = switchboard()
    heard, on_notification = list_changes()

    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol="2025-11-25", on_notification=on_notification) as mine,
        Client(server, protocol="2025-11-25") as other,
    ):
        assert (await mine.call_tool("hide_admin", {})).content[0].text == "hidden"  # type: ignore[union-attr]
        got = {await heard.get() for _ in range(3)}
        assert got == {
            "notifications/tools/list_changed",
            "notifications/prompts/list_changed",
            "notifications/resources/list_changed",
        }
        assert await names(mine) == (["echo", "hide_admin", "show_admin"], [], [])
        for call in (
            mine.call_tool("wipe", {}),
            mine.get_prompt("audit"),
            mine.read_resource("notes://admin"),
        ):
            with pytest.raises(McpError):
                await call
        # Another session is untouched.
        assert await names(other) == (
            ["echo", "hide_admin", "show_admin", "wipe"],
            ["audit"],
            ["notes://admin"],
        )
        assert (await other.call_tool("wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]
        await mine.call_tool("show_admin", {})
        assert await heard.get() == "notifications/tools/list_changed"
        assert "wipe" in (await names(mine))[0]
        assert (await mine.call_tool("wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]


async def test_a_2026_request_has_no_session_to_change_and_is_told_so() -> None:
    server = switchboard()
    async with asyncio.timeout(WAIT), Client(server, protocol="2026-07-28") as client:
        result = await client.call_tool("hide_admin", {})
        assert result.is_error
        text = result.content[0].text  # type: ignore[union-attr]
        assert "has none" in text and "add_visibility_rule" in text
        assert "wipe" in (await names(client))[0]  # nothing changed


def test_session_rules_outlive_the_process_on_the_record() -> None:
    record = SessionRecord(id="s")
    record.components = (ComponentRule(enable=False, tags=frozenset({"admin"})),)
    assert decode_record(encode_record(record)).components == record.components
    assert decode_record(encode_record(SessionRecord(id="t"))).components == ()


def only_for(client_name: str) -> Any:
    def rule(ctx: Context, component: Component) -> bool:
        info = ctx.client_info
        return "admin" not in component.tags or (info is not None and info.name == client_name)

    return rule


@pytest.mark.parametrize("era", ERAS)
async def test_a_per_request_rule_decides_what_each_request_sees(era: str) -> None:
    server = switchboard()
    server.add_visibility_rule(only_for("root"))
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="guest") as guest,
        Client(server, protocol=era, name="root") as root,
    ):
        assert await names(guest) == (["echo", "hide_admin", "show_admin"], [], [])
        for call in (
            guest.call_tool("wipe", {}),
            guest.get_prompt("audit"),
            guest.read_resource("notes://admin"),
        ):
            with pytest.raises(McpError):
                await call
        assert (await names(root))[1:] == (["audit"], ["notes://admin"])
        assert (await root.call_tool("wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_parent_rule_hides_mounted_components(era: str) -> None:
    parent = Server("parent")
    parent.mount(switchboard(), namespace="kid")
    seen: list[str] = []

    @parent.add_visibility_rule
    def no_admin(ctx: Context, component: Component) -> bool:
        seen.append(f"{component.kind} {component.key}")
        return "admin" not in component.tags

    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        assert (await names(client))[0] == ["kid_echo", "kid_hide_admin", "kid_show_admin"]
        assert "tool kid_wipe" in seen  # judged by the names the parent shows
        with pytest.raises(McpError) as refused:
            await client.call_tool("kid_wipe", {})
        assert refused.value.message == "Unknown tool: kid_wipe"
        with pytest.raises(McpError):
            await client.read_resource("notes://kid/admin")


class _Tokens:
    table: dict[str, AccessToken] = {  # noqa: RUF012
        "reader": AccessToken(subject="ann", scopes=frozenset({"read"})),
        "admin": AccessToken(subject="bo", scopes=frozenset({"read", "admin"})),
    }

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        found = self.table.get(token)
        if found is None:
            raise InvalidToken("unknown token")
        return found


@pytest.mark.parametrize("era", ERAS)
async def test_a_rule_reads_the_callers_token_over_http(era: str) -> None:
    server = switchboard()
    server.auth = ProtectedResource(verifier=_Tokens())

    @server.add_visibility_rule
    def admins_see_admin_tools(ctx: Context, component: Component) -> bool:
        token = ctx.auth
        return "admin" not in component.tags or (token is not None and "admin" in token.scopes)

    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:

        def as_(token: str) -> Client:
            return Client(f"{base}/mcp", protocol=era, headers={"authorization": f"Bearer {token}"})

        async with as_("reader") as reader, as_("admin") as admin:
            assert "wipe" not in (await names(reader))[0]
            with pytest.raises(McpError):
                await reader.call_tool("wipe", {})
            assert "wipe" in (await names(admin))[0]
            assert (await admin.call_tool("wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]


def test_a_rule_must_be_a_function() -> None:
    with pytest.raises(TypeError, match="a visibility rule is a function"):
        Server("s").add_visibility_rule("admin")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ctx: ctx.enable_components(), "needs something to pick components by"),
        (lambda ctx: ctx.disable_components(tag={"x"}), "did you mean 'tags'"),
        (lambda ctx: ctx.disable_components("x", only=True), "unknown option 'only'"),
    ],
)
async def test_hostile_session_calls_are_refused(call: Any, message: str) -> None:
    server = Server("s", mask_error_details=False)

    @server.tool()
    async def change(ctx: Context) -> str:
        await call(ctx)
        return "changed"

    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        result = await client.call_tool("change", {})
        assert result.is_error
        assert message in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_hidden_prompt_is_not_completed(era: str) -> None:
    server = Server("completing")

    @server.prompt(tags={"admin"})
    def review(style: Literal["short", "long"]) -> str:
        return style

    server.add_visibility_rule(only_for("root"))
    ref = {"type": "ref/prompt", "name": "review"}
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="guest") as guest,
        Client(server, protocol=era, name="root") as root,
    ):
        assert (await root.complete(ref, "style", "s")).completion.values == ["short"]
        with pytest.raises(McpError) as refused:
            await guest.complete(ref, "style", "s")
        assert refused.value.message == "Unknown prompt: review"


async def admin_hidden_there(http: httpx.AsyncClient, url: str, sid: str) -> None:
    """Session `sid`'s tools/list, as the app at `url` serves it: the admin tool hidden."""
    answer = await http.post(
        url,
        json={"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}},
        headers={
            "accept": "application/json, text/event-stream",
            "mcp-session-id": sid,
            "mcp-protocol-version": "2025-11-25",
        },
    )
    assert answer.status_code == 200, answer.text
    assert "wipe" not in answer.text and "echo" in answer.text


async def test_a_sessions_rules_reach_another_process_serving_it(tmp_path: Path) -> None:
    """Two apps on one SQLite store (two processes, as the store can tell): what a session
    hid through one is hidden when the other serves the session's next request."""
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    here, there = switchboard(), switchboard()
    here.use_store(url)
    there.use_store(url)
    try:
        async with (
            asyncio.timeout(WAIT),
            serving(here.http_app()) as base_here,
            serving(there.http_app()) as base_there,
            httpx.AsyncClient() as http,
        ):
            async with Client(f"{base_here}/mcp", protocol="2025-11-25") as client:
                await client.call_tool("hide_admin", {})
                sid = client.session_id
                assert sid is not None
                await admin_hidden_there(http, f"{base_there}/mcp", sid)
    finally:
        await here.store.aclose()
        await there.store.aclose()


@pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])
async def test_an_answer_goes_out_only_once_what_it_changed_is_in_the_store(
    tmp_path: Path, json_response: bool
) -> None:
    """The session's record is written before the answer of the request that changed it
    goes out, not after: a client whose next request reaches another process at once, while
    the first one's store is slow, is served under what it just changed (read-your-writes)."""
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    here, there = switchboard(), switchboard()
    here.use_store(url)
    there.use_store(url)
    records = here.store.sessions
    assert records is not None
    put = records.put
    slow_writes: list[SessionRecord] = []

    async def put_slowly(record: SessionRecord) -> None:
        slow_writes.append(record)
        await asyncio.sleep(0.5)  # a store under load: the answer must not overtake it
        await put(record)

    try:
        async with (
            asyncio.timeout(WAIT),
            serving(here.http_app(json_response=json_response)) as base_here,
            serving(there.http_app()) as base_there,
            httpx.AsyncClient() as http,
        ):
            async with Client(f"{base_here}/mcp", protocol="2025-11-25") as client:
                sid = client.session_id
                assert sid is not None
                records.put = put_slowly  # type: ignore[method-assign]
                await client.call_tool("hide_admin", {})
                await admin_hidden_there(http, f"{base_there}/mcp", sid)
                assert slow_writes and slow_writes[0].components  # (the write was the slow one)
    finally:
        await here.store.aclose()
        await there.store.aclose()


@pytest.mark.parametrize("era", ERAS)
async def test_a_rule_added_while_serving_announces_every_list(era: str) -> None:
    server = switchboard()
    heard, on_notification = list_changes()

    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, on_notification=on_notification) as client,
    ):
        assert "wipe" in (await names(client))[0]
        server.add_visibility_rule(only_for("nobody"))
        got = {await heard.get() for _ in range(3)}
        assert got == {
            "notifications/tools/list_changed",
            "notifications/prompts/list_changed",
            "notifications/resources/list_changed",
        }
        assert "wipe" not in (await names(client))[0]


@pytest.mark.parametrize("era", ERAS)
async def test_a_rule_that_raises_fails_the_request_rather_than_showing_anything(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = switchboard()

    @server.add_visibility_rule
    def broken(ctx: Context, component: Component) -> bool:
        raise RuntimeError("the rule's own bug")

    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        for call in (client.list_tools(), client.call_tool("wipe", {})):
            with pytest.raises(McpError) as failed:
                await call
            assert failed.value.message == "Internal error"
    assert "the rule's own bug" in caplog.text


async def test_a_sessions_own_rules_are_bounded() -> None:
    # Before: each call of a tool that hides one name grew the session's record (kept in the
    # store) without end.
    from mcpkit.server.catalog.visibility.session_rules import MAX_SESSION_RULES

    server = Server("bounded", mask_error_details=False)  # (to read the refusal)

    @server.tool()
    async def hide(name: str, ctx: Context) -> str:
        await ctx.disable_components(name)
        return "hidden"

    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        for i in range(MAX_SESSION_RULES):
            assert (await client.call_tool("hide", {"name": f"t{i}"})).is_error is not True
        refused = await client.call_tool("hide", {"name": "one-too-many"})
        assert refused.is_error and "MAX_SESSION_RULES" in refused.content[0].text  # type: ignore[union-attr]
        # Hiding again what it hides already adds no rule: still accepted.
        assert (await client.call_tool("hide", {"name": "t0"})).is_error is not True
