"""What every session (and every 2026-07-28 POST) asks the server is worked out once per
change: one shared ServerCapabilities per feature set, `serves_tasks` per tool list."""

from __future__ import annotations

import pytest

from mcpkit import Server
from mcpkit.stores.sessions import unsent_session_id


def test_sessions_share_one_capabilities_object_until_something_changes() -> None:
    server = Server("caps")

    @server.tool()
    def echo(text: str) -> str:
        return text

    first = server.capabilities()
    assert server.capabilities() is first
    assert not server.serves_tasks

    @server.tool(task=True)
    def slow(n: int) -> int:
        return n

    assert server.serves_tasks  # the tool list changed: worked out again
    changed = server.capabilities()
    assert changed.tasks is not None and first.tasks is None
    server.tools.remove("slow")
    assert not server.serves_tasks
    assert server.capabilities() is first  # the same feature set: the same object


def test_unsent_session_ids_are_unique_and_visible_ascii() -> None:
    ids = {unsent_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.isascii() and i.isprintable() and " " not in i for i in ids)


def test_a_completer_added_later_here_or_in_a_mounted_server_is_declared() -> None:
    server, inner = Server("outer"), Server("inner")

    @server.tool()
    def echo(text: str) -> str:
        return text

    server.mount(inner, "in")
    assert server.capabilities().completions is None

    @inner.completion(prompt="p", argument="a")
    def complete(value: str) -> list[str]:
        return [value]

    assert server.capabilities().completions is not None
    auth_free = server.capabilities()
    server.features = frozenset({"tools"})
    assert server.capabilities() is not auth_free and server.capabilities().completions is None


def test_capabilities_worked_out_again_walk_the_mounted_completers_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, inner = Server("outer"), Server("inner")
    server.mount(inner, "in")
    assert server.capabilities().completions is None
    walks: list[int] = []
    count = Server._completer_count  # pyright: ignore[reportPrivateUsage]

    def counted(self: Server) -> int:
        walks.append(1)
        return count(self)

    monkeypatch.setattr(Server, "_completer_count", counted)

    @inner.completion(prompt="p", argument="a")
    def complete(value: str) -> list[str]:
        return [value]

    # A miss (the completers, changed in place, are what changed): they are counted once.
    assert server.capabilities().completions is not None
    assert len(walks) == 1
    server.capabilities()  # a hit
    assert len(walks) == 2
