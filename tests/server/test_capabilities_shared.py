"""What every session (and every 2026-07-28 POST) asks the server is worked out once per
change: one shared ServerCapabilities per feature set, `serves_tasks` per tool list."""

from __future__ import annotations

import pytest

from mcpkit import Server
from mcpkit.server.serving.declaring import DeclaredCapabilities
from mcpkit.stores.sessions import unsent_session_id
from mcpkit.types import ServerCapabilities


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


def test_the_capabilities_of_a_server_with_mounts_are_worked_out_once_per_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mounted server's completers, changed in place, count as its parent's change: the
    parent works its capabilities out again once, and a hit walks none of its mounts."""
    server, inner = Server("outer"), Server("inner")
    server.mount(inner, "in")
    assert server.capabilities().completions is None
    worked: list[int] = []
    declared = DeclaredCapabilities._worked_out  # pyright: ignore[reportPrivateUsage]

    def counted(self: DeclaredCapabilities) -> ServerCapabilities:
        worked.append(1)
        return declared(self)

    monkeypatch.setattr(DeclaredCapabilities, "_worked_out", counted)

    @inner.completion(prompt="p", argument="a")
    def complete(value: str) -> list[str]:
        return [value]

    assert server.capabilities().completions is not None
    assert len(worked) == 1
    server.capabilities()  # a hit
    assert len(worked) == 1
    del inner.completers[("ref/prompt", "p", "a")]
    assert server.capabilities().completions is None
    assert len(worked) == 2
