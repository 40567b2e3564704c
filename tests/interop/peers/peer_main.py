"""The command-line frame of the Python peer clients: run `summarize(command)` within a time
limit, print its JSON summary and exit 0, or report the failure on stderr and exit 1."""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["main"]


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside the SDK's (nested) task-group exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def main(
    name: str, summarize: Callable[[list[str]], Awaitable[dict[str, Any]]], timeout: float
) -> int:
    """`name COMMAND [ARG...]`: drive the server that COMMAND starts."""
    argv = sys.argv[1:]
    if not argv:
        print(f"usage: {name} COMMAND [ARG...]", file=sys.stderr)
        return 2

    async def run() -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            return await summarize(argv)

    try:
        summary = asyncio.run(run())
    except BaseException as exc:  # any failure at all is reported, then exit 1
        traceback.print_exc(file=sys.stderr)
        for cause in leaves(exc):
            print(f"{name}: {type(cause).__name__}: {cause}", file=sys.stderr)
        return 1
    print(json.dumps(summary, sort_keys=True))
    return 0
