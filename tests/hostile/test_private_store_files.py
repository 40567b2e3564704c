"""A SQLite store's files hold live session ids, event logs and the requestState key: under the
usual umask 022 they are made for this user alone (database, -wal and -shm 0600, folders 0700),
and an existing file or folder other users can open is named in one warning with its fix."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpkit import Server
from mcpkit.server.serving._private_store import PRIVATE_STORE, private_store
from mcpkit.stores._private_files import check_private
from mcpkit.stores.sessions import SessionRecord
from mcpkit.stores.url import open_store


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service (files 0644, folders 0755 unless told)."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def write_some(url: str) -> None:
    """Open the store at `url`, write a session, a task and the shared key, and check the
    files while the database is open (its -wal and -shm exist only then)."""
    stores = open_store(url)
    try:
        assert stores.sessions is not None and stores.secrets is not None
        await stores.sessions.put(SessionRecord(id="a-live-session-id"))
        await stores.tasks.create("alice")
        await stores.secrets.secret("request-state")
        database = Path(url.removeprefix("sqlite:///"))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert path.exists(), path
            assert mode(path) == 0o600, (path, oct(mode(path)))
    finally:
        await stores.aclose()


async def test_a_new_store_is_private_to_this_user(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tmp_path.chmod(0o700)
    database = tmp_path / "made" / "here" / "state.db"
    with caplog.at_level(logging.WARNING, logger="mcpkit.stores"):
        await write_some(f"sqlite:///{database}")
    assert mode(tmp_path / "made") == 0o700
    assert mode(tmp_path / "made" / "here") == 0o700
    assert mode(database) == 0o600
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_an_existing_open_store_of_ours_is_made_private_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: an existing 0644 state.db stayed 0644, and its -wal and -shm were made alike.
    tmp_path.chmod(0o700)
    database = tmp_path / "state.db"
    await write_some(f"sqlite:///{database}")
    # As a store made before, or by hand, under umask 022, and left by a process killed.
    left = [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")]
    for path in left:
        path.touch()
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="mcpkit.stores"):
        await write_some(f"sqlite:///{database}")  # its files 0600 while it is open
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    named = ", ".join(map(str, left))
    assert f"{named} could be read or written by other users: made them 0600" in warnings[0]
    assert "chmod" not in warnings[0]  # nothing left for the operator to do
    assert mode(database) == 0o600


def test_another_users_open_store_is_named_with_its_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path.chmod(0o700)
    database = tmp_path / "state.db"
    database.touch(0o644)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(database).st_uid + 1)  # not ours
    with caplog.at_level(logging.WARNING, logger="mcpkit.stores"):
        check_private(database)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert f"chmod 600 {database} as their owner" in warnings[0]
    assert mode(database) == 0o644  # not ours to change


async def test_a_folder_others_may_write_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)  # whoever may write here could plant the -wal file first
    with caplog.at_level(logging.WARNING, logger="mcpkit.stores"):
        await write_some(f"sqlite:///{folder / 'state.db'}")  # made here: the file is private
        stores = open_store(f"sqlite:///{folder / 'state.db'}")  # opened again
        await stores.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2  # one line each time the store is opened
    for warning in warnings:
        assert f"chmod 700 {folder}" in warning
        assert "chmod 600" not in warning  # the file itself is private


async def test_the_private_store_of_workers_keeps_its_wal_private() -> None:
    server = Server("workers")
    with private_store(server, workers=2, stateless=False) as env:
        url = env[PRIVATE_STORE]
        folder = Path(url.removeprefix("sqlite:///")).parent
        assert mode(folder) == 0o700
        await server.store.aclose()
        await write_some(url)  # as a worker does, with the database, -wal and -shm 0600
