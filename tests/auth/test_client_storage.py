"""Token storage: the in-memory default, and the file store's owner-only permissions, atomic
replacement and per-server keys (spec: basic/authorization, "Token Theft")."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from _client_world import ISSUER, MCP, World, mock_client

from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.auth.client.storage import (
    FileTokenStorage,
    MemoryTokenStorage,
    StoredClient,
    StoredTokens,
    TokenStorage,
    UnsafeTokenDirectory,
    _unsafe,
)
from mcpkit.auth.metadata import ClientInformation

A = "https://a.example.com/mcp"
B = "https://b.example.com/mcp"


def tokens(access: str = "at") -> StoredTokens:
    return StoredTokens(
        access_token=access,
        resource=A,
        issuer=ISSUER,
        token_endpoint=f"{ISSUER}/token",
        refresh_token="rt",
        expires_at=123.5,
        scope="a b",
    )


@pytest.mark.parametrize("kind", ["memory", "file"])
async def test_tokens_and_clients_are_kept_per_server(kind: str, tmp_path: Path) -> None:
    storage: TokenStorage = MemoryTokenStorage() if kind == "memory" else FileTokenStorage(tmp_path)
    client = StoredClient(issuer=ISSUER, information=ClientInformation(client_id="c"))
    await storage.save_tokens(A, tokens())
    await storage.save_client(A, client)
    assert await storage.load_tokens(A) == tokens()
    assert await storage.load_client(A) == client
    assert await storage.load_tokens(B) is None and await storage.load_client(B) is None
    await storage.save_tokens(A, None)
    assert await storage.load_tokens(A) is None
    assert await storage.load_client(A) == client  # forgetting tokens keeps the registration


async def test_files_are_owner_only_and_the_directory_too(tmp_path: Path) -> None:
    storage = FileTokenStorage(tmp_path / "tokens")
    await storage.save_tokens(A, tokens())
    assert stat.S_IMODE(os.stat(tmp_path / "tokens").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(storage.path_for(A)).st_mode) == 0o600
    assert b"at" in storage.path_for(A).read_bytes()


async def test_a_write_that_fails_leaves_the_old_file_whole_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = FileTokenStorage(tmp_path)
    await storage.save_tokens(A, tokens("old"))

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        await storage.save_tokens(A, tokens("new"))
    monkeypatch.undo()
    assert (await storage.load_tokens(A)) == tokens("old")
    assert sorted(p.name for p in tmp_path.iterdir()) == [storage.path_for(A).name]


async def test_a_damaged_or_foreign_file_counts_as_empty(tmp_path: Path) -> None:
    storage = FileTokenStorage(tmp_path)
    storage.path_for(A).write_bytes(b"\x00not json")
    assert await storage.load_tokens(A) is None
    await storage.save_tokens(B, tokens())
    # Another server's entry under A's name (a copied file) is not A's.
    storage.path_for(A).write_bytes(storage.path_for(B).read_bytes())
    assert await storage.load_tokens(A) is None
    await storage.save_tokens(A, tokens("mine"))
    assert (await storage.load_tokens(A)) == tokens("mine")


async def test_tokens_in_a_file_survive_a_restart(tmp_path: Path) -> None:
    world = World()
    for _ in range(2):  # two "processes": the second finds the tokens and the registration
        http = mock_client(world)
        auth = OAuth(
            HeadlessRedirect(http_client=http), http_client=http, storage=FileTokenStorage(tmp_path)
        )
        async with mock_client(world, auth) as client:
            assert (await client.get(MCP)).status_code == 200
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1
    assert len(world.requests_to(f"{ISSUER}/register")) == 1


async def test_a_stored_registration_is_reused_for_a_new_flow(tmp_path: Path) -> None:
    world = World()
    storage = FileTokenStorage(tmp_path)
    for _ in range(2):
        http = mock_client(world)
        auth = OAuth(HeadlessRedirect(http_client=http), http_client=http, storage=storage)
        async with mock_client(world, auth) as client:
            assert (await client.get(MCP)).status_code == 200
        await storage.save_tokens(MCP, None)  # tokens lost; the registration stays
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 2
    assert len(world.requests_to(f"{ISSUER}/register")) == 1


def test_the_tokens_stay_out_of_reprs() -> None:
    shown = repr(tokens("secret-access")) + str(tokens("secret-access"))
    assert "secret-access" not in shown and "'rt'" not in shown
    assert "a.example.com" in shown


TOKENS = StoredTokens(
    access_token="at", resource=MCP, issuer=ISSUER, token_endpoint=f"{ISSUER}/token"
)


async def test_a_symlinked_or_shared_directory_is_refused(tmp_path: Path) -> None:
    # Issue 19: a pre-existing symlinked or 0777 directory was used as it was, and planted
    # token files in it were loaded.
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    for directory, problem in ((link, "symbolic link"), (shared, "written by other users")):
        storage = FileTokenStorage(directory)
        with pytest.raises(UnsafeTokenDirectory, match=problem):
            await storage.save_tokens(MCP, TOKENS)
        with pytest.raises(UnsafeTokenDirectory, match=problem):
            await storage.load_tokens(MCP)
    assert list(real.iterdir()) == []


async def test_the_directory_is_created_private_and_planted_files_are_ignored(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "new" / "tokens"
    storage = FileTokenStorage(directory)
    await storage.save_tokens(MCP, TOKENS)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert (await storage.load_tokens(MCP)) is not None
    planted = storage.path_for(MCP)
    planted.chmod(0o666)  # as a file another user could have written
    assert await storage.load_tokens(MCP) is None
    planted.unlink()
    planted.symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_bytes(planted.name.encode())
    assert await storage.load_tokens(MCP) is None


def test_what_another_user_owns_is_unsafe(tmp_path: Path) -> None:
    mine = os.stat(tmp_path)
    other = os.stat_result((mine.st_mode, 0, 0, 1, mine.st_uid + 1, 0, 0, 0, 0, 0))
    assert _unsafe(other, directory=True) == "belongs to another user"
    tmp_path.chmod(0o700)
    assert _unsafe(os.stat(tmp_path), directory=True) is None
