"""Two servers in one process that declare an extension of one identifier, each with methods
of its own, serve each its own (the tables of extension methods their sessions share are
made of what each server declared, and bounded)."""

from __future__ import annotations

from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import PeerError
from mcpkit.server.catalog import extension_methods
from mcpkit.server.catalog.extension_methods import method_infos

ERAS = ["2025-11-25", "2026-07-28"]
AUDIT = "com.example/audit"


def audit_server(name: str, method: str) -> Server:
    server = Server(name)

    def handler(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
        return {"served_by": name}

    server.declare_extension(AUDIT, methods={method: handler})
    return server


@pytest.mark.parametrize("era", ERAS)
async def test_two_servers_with_an_extension_of_one_id_serve_each_its_own_methods(
    era: str,
) -> None:
    servers = {"audit/read": audit_server("reader", "audit/read")}
    servers["audit/write"] = audit_server("writer", "audit/write")
    methods = list(servers)
    for mine, server in servers.items():
        async with Client(
            server, protocol=era, extensions={AUDIT: {}}, extension_methods=methods
        ) as client:
            assert (await client.request(mine, {}))["served_by"] == server.name
            (theirs,) = set(methods) - {mine}
            with pytest.raises(PeerError) as refused:
                await client.request(theirs, {})
            assert refused.value.code == -32601


def test_the_tables_are_shared_by_what_they_hold_and_bounded() -> None:
    read = method_infos(False, frozenset({"audit/read"}))
    assert read is not None and set(read) == {"audit/read"}
    assert method_infos(False, frozenset({"audit/read"})) is read
    both = method_infos(True, frozenset({"audit/read"}))
    assert both is not None and "audit/read" in both and "skills/list" in both
    assert method_infos(False, frozenset()) is None
    for n in range(3 * extension_methods._MAX_INFOS):  # pyright: ignore[reportPrivateUsage]
        method_infos(False, frozenset({f"audit/m{n}"}))
    assert len(extension_methods._infos) <= extension_methods._MAX_INFOS  # pyright: ignore[reportPrivateUsage]
