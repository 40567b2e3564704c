"""A server restarted on the same SQLite file (`mcpkit.stores.sqlite`) goes on with the session
a client opened before the restart: the record is read back from the file by a database opened
afresh, as a new process opens it, and the client carries on with its session id, revision,
log level and subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from _serving import WAIT, serving
from test_session_restore import notes  # the same server as the in-memory store's test

from mcpkit import Client
from mcpkit.stores.sqlite import SqliteDatabase, SqliteEventStore, SqliteSessionStore
from mcpkit.types import LoggingMessageNotificationParams


async def test_a_restarted_server_goes_on_with_the_session_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    logs: list[LoggingMessageNotificationParams] = []
    async with contextlib.AsyncExitStack() as stack, asyncio.timeout(WAIT * 3):
        db = SqliteDatabase(path)
        app = notes().http_app(
            session_store=SqliteSessionStore(db), event_store=SqliteEventStore(db)
        )
        async with serving(app) as base:
            port = int(base.rsplit(":", 1)[1])
            client = await stack.enter_async_context(
                Client(f"{base}/mcp", on_log=logs.append, protocol="2025-11-25")
            )
            await client.set_logging_level("warning")
            await client.subscribe("notes://today")
            sid = client.session_id
            app.close_streams()  # what a SIGTERM does first
        await db.aclose()  # the process is gone: nothing of it is left but the file

        again = SqliteDatabase(path)
        second = notes()
        restarted = second.http_app(
            session_store=SqliteSessionStore(again), event_store=SqliteEventStore(again)
        )
        try:
            async with serving(restarted, port=port):
                result = await client.call_tool("shout")  # the same client, the same session
                assert result.content[0].text == "done"  # type: ignore[union-attr]
                (restored,) = second.sessions
                assert restored.id == sid and restored.log_level == "warning"
                assert restored.subscriptions == {"notes://today"}
                assert [p.data for p in logs] == ["a problem"]
                await stack.aclose()  # the client, before its GET stream holds up the shutdown
        finally:
            await again.aclose()
