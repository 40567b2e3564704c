"""docs/server.md's examples run as written: its Python blocks, in order, in one namespace
(as a reader pastes them into one file), and then serve what they say through a Client."""

from __future__ import annotations

import pathlib
import re
from typing import Any

from mcpkit import Client, Server

DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def _run_blocks() -> list[dict[str, Any]]:
    """Each block's namespace right after it ran (one namespace shared by all)."""
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    snapshots = []
    for block in BLOCKS:
        # Our own docs, as a reader runs them: not under this module's `from __future__`.
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
        snapshots.append(dict(namespace))
    return snapshots


def _last_server(snapshots: list[dict[str, Any]], name: str) -> Server:
    """The last `server` of that name the blocks defined (by name, not by place: sections
    come and go between them)."""
    found = [s["server"] for s in snapshots if getattr(s.get("server"), "name", None) == name]
    assert found, f"no block defines a Server named {name!r}"
    server: Server = found[-1]
    return server


async def test_the_examples_serve_what_the_text_says(tmp_path: pathlib.Path) -> None:
    snapshots = _run_blocks()
    assert len(snapshots) >= 6
    files = _last_server(snapshots, "files")  # the tools, resources, prompts and completers
    note = tmp_path / "note.txt"
    note.write_text("x")
    async with Client(files) as client:
        changed = await client.call_tool("modified", {"path": str(note)})
        assert changed.is_error is not True
        assert changed.structured_content is not None
        assert changed.structured_content["result"].endswith("Z")
        missing = await client.call_tool("modified", {"path": str(tmp_path / "nope")})
        assert missing.is_error is True and "does not exist" in str(missing.content)
        repeated = await client.call_tool("repeat", {"text": "ab", "times": "3"})
        assert repeated.content[0].text == "ababab"  # type: ignore[union-attr]
        config = await client.read_resource("config://app")
        assert '"theme"' in config.contents[0].text  # type: ignore[union-attr]
        profile = await client.read_resource("users://ada/profile")
        assert profile.contents[0].text == "Profile of ada"  # type: ignore[union-attr]
        stored = await client.read_resource("files://notes/2026/todo.md")
        assert stored.contents[0].text == "Stored at notes/2026/todo.md"  # type: ignore[union-attr]
        prompt = await client.get_prompt("review", {"code": "x = 1"})
        assert "python" in prompt.messages[0].content.text  # type: ignore[union-attr]
    app = _last_server(snapshots, "app")  # the lifespan's
    async with Client(app) as client:
        await client.ping()
    assert app.lifespan_state is None  # left after the last session


def test_every_name_in_the_import_table_is_where_it_says() -> None:
    import importlib

    table = DOC.read_text().split("## Where the names come from", 1)[1]
    rows = re.findall(r"^\| (.+) \| `([\w.]+)` \|$", table, flags=re.MULTILINE)
    assert len(rows) >= 6
    for names, module_name in rows:
        module = importlib.import_module(module_name)
        for name in re.findall(r"`(\w+)`", names):
            assert hasattr(module, name), (name, module_name)
