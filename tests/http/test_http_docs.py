"""docs/http.md works as written: its server module, served by uvicorn, answers the official
SDK's client; its apps mounted in Starlette and FastAPI answer at the prefix, lifespan
included."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from _legacy import legacy_session
from _serving import WAIT, serving
from mcp import Client as OfficialClient
from starlette.applications import Starlette
from starlette.routing import Mount

from mcpkit import Client

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"


def load_example(name: str = "weather") -> ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    (block,) = [b for b in blocks if b.startswith(f"# {name}.py\n")]
    module = ModuleType(name)
    exec(compile(block, f"{name}.py", "exec"), module.__dict__)
    return module


async def test_the_served_example_answers_a_client() -> None:
    weather = load_example()
    assert "uvicorn weather:app --host 127.0.0.1" in DOC.read_text()
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with asyncio.timeout(WAIT), serving(weather.app) as base:
        async with OfficialClient(base + "/mcp") as client:
            result = await client.call_tool(
                "forecast", {"city": "Oslo", "days": 2}, progress_callback=on_progress
            )
    assert result.content[0].text == "Oslo: sunny for 2 days"  # type: ignore[union-attr]
    assert set(progress) <= {1, 2}


@pytest.mark.parametrize("name", ["starlette_app", "fastapi_app"])
async def test_the_app_mounted_in_starlette_and_fastapi_answers_at_the_prefix(name: str) -> None:
    example = load_example(name)
    tool, args, text = ("greet", {"name": "Ada"}, "hello, Ada")
    if name == "fastapi_app":
        tool, args, text = ("add", {"a": 2, "b": 3}, "5")
    async with asyncio.timeout(WAIT), serving(example.app) as base:
        async with Client(base + "/api/mcp") as client:
            assert (await client.call_tool(tool, args)).text == text
        async with httpx.AsyncClient() as http:  # the legacy endpoint honours the prefix too
            events, url = await legacy_session(http, base, "/api/sse")
            assert httpx.URL(url).path == "/api/messages"
            await events.response.aclose()
            missing = await http.post(base + "/mcp", json={})
            assert missing.status_code == 404  # not at the root: at the prefix only


async def test_mounted_without_its_lifespan_the_handler_and_the_log_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    example = load_example("starlette_app")
    app = Starlette(routes=[Mount("/api", app=example.mcp_app)])  # no lifespan=
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/api/mcp") as client:
            result = await client.call_tool("greet", {"name": "Ada"})
            assert result.is_error and "app.lifespan()" in result.text
    warned = [
        r.getMessage() for r in caplog.records if "without the ASGI lifespan" in r.getMessage()
    ]
    assert len(warned) == 1 and "lifespan hook has not run" in warned[0]


async def test_the_limits_example_serves_with_its_header_timeout() -> None:
    limits = load_example("limits")
    app = limits.app
    assert (app.header_timeout, app.max_connections) == (5, 500)
    async with asyncio.timeout(WAIT), serving(app, http=app.uvicorn_protocol("h11")) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        answer = await reader.read(-1)  # silent: closed after header_timeout, 5 s
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ") and b"header_timeout (5 s)" in answer
