"""docs/deploy.md's server runs as written, under the command lines the page shows (its
SQLite file made in the working directory), and docs/http.md's SQLite snippet keeps its
sessions, event logs and tasks in the one file. (The nginx configuration has its own test:
test_nginx_deploy.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

from _processes import starts
from _running import REPO, mcpkit, running

from mcpkit import Client
from mcpkit.stores.sqlite import SqliteEventStore, SqliteSessionStore
from mcpkit.stores.sqlite_tasks import SqliteTaskStore
from mcpkit.transports.deployment.relay import STOPPED

WAIT = 30.0


def blocks(doc: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "docs" / doc).read_text(), re.S)


@contextlib.contextmanager
def working_in(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@starts(4)
async def test_the_durable_server_runs_with_each_store_the_page_shows(tmp_path: Path) -> None:
    (block,) = [b for b in blocks("deploy.md") if b.startswith("# durable.py\n")]
    (tmp_path / "durable.py").write_text(block)
    text = (REPO / "docs" / "deploy.md").read_text()
    for line in (
        "mcpkit run durable.py --transport http --port 8001",
        "mcpkit run durable.py --transport http --port 8001 --workers 4 --store redis://",
    ):
        assert line in text
    argv = mcpkit("run", "durable.py", "--transport", "http", "--port", "0")
    for extra, programs in (([], 1), (["--workers", "2"], 3)):
        async with (
            asyncio.timeout(WAIT * programs),
            running([*argv, *extra], cwd=tmp_path) as served,
        ):
            url = await served.started()
            async with Client(url, protocol="2025-11-25") as client:
                assert (await client.call_tool("build_report", {"pages": 2}, task=True)).text == (
                    "2 pages"
                )
            assert await served.stop(signal.SIGTERM) == 0
    assert (tmp_path / "reports-state.db").exists()  # the file the code names


async def test_the_http_pages_sqlite_snippet_keeps_everything_in_the_file(tmp_path: Path) -> None:
    (block,) = [b for b in blocks("http.md") if 'store="sqlite:///state.db"' in b]
    scope: dict[str, object] = {}
    with working_in(tmp_path):
        exec(compile(block, "http.md", "exec"), scope)
    server, app = scope["server"], scope["app"]
    assert (tmp_path / "state.db").exists()
    assert isinstance(app.session_store, SqliteSessionStore)  # type: ignore[attr-defined]
    assert isinstance(app.streams.store, SqliteEventStore)  # type: ignore[attr-defined]
    assert isinstance(server.task_runner.store, SqliteTaskStore)  # type: ignore[attr-defined]
    await server.store.aclose()  # type: ignore[attr-defined]


def test_the_error_the_page_quotes_for_a_killed_worker_is_the_one_sent() -> None:
    page = " ".join((REPO / "docs" / "deploy.md").read_text().split())
    assert f'message "{STOPPED}"' in page
