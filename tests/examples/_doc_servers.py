"""Load each file named on the command line as `mcpkit run` loads it, and list what every
Server defined in it offers, through a Client in memory: one JSON line per file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from mcpkit import Client, Server
from mcpkit.cli.user_server import load_file


async def offered(server: Server) -> dict[str, list[str]]:
    async with asyncio.timeout(30), Client(server) as client:
        caps = client.server_capabilities
        found: dict[str, list[str]] = {}
        if caps.tools is not None:
            found["tools"] = [tool.name for tool in await client.list_tools()]
        if caps.resources is not None:
            found["resources"] = [str(r.uri) for r in await client.list_resources()]
            templates = await client.list_resource_templates()
            found["resourceTemplates"] = [t.uri_template for t in templates]
        if caps.prompts is not None:
            found["prompts"] = [prompt.name for prompt in await client.list_prompts()]
        return found


async def main(paths: list[str]) -> None:
    for path in paths:
        module: Any = load_file(Path(path))
        servers = {
            name: await offered(value)
            for name, value in vars(module).items()
            if isinstance(value, Server)
        }
        print(json.dumps({"file": Path(path).name, "servers": servers}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
