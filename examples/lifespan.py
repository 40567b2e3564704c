"""A lifespan hook: open shared state once when serving starts, close it when it ends."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mcpkit import Context, Server


class Database:
    def __init__(self) -> None:
        self.rows: dict[str, str] = {"alice": "admin"}

    def close(self) -> None:
        self.rows.clear()


@contextlib.asynccontextmanager
async def lifespan(server: Server) -> AsyncIterator[Database]:
    db = Database()
    try:
        yield db  # available to handlers as ctx.lifespan_state
    finally:
        db.close()


server = Server("lifespan-example", version="1.0.0", lifespan=lifespan)


@server.tool()
def role(user: str, ctx: Context) -> str:
    """Look a user's role up in the database the lifespan opened."""
    db: Database = ctx.lifespan_state
    return db.rows.get(user, "unknown")


if __name__ == "__main__":
    server.run()
