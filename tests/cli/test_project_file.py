"""`mcpkit run` with a project file: `mcpkit.json`, `[tool.mcpkit]` in pyproject.toml, FastMCP's
`fastmcp.json`; found in the folder when no target is given, flags overriding it, its
environment checked against this Python, and every key it cannot honour refused or said."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _processes import starts
from _verbs import WAIT  # (it puts the HTTP tests' helpers on the path)

from _running import mcpkit, running  # isort: skip

from mcpkit import Client, StdioParameters

REPO = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(REPO / "src")}

SERVER = """
import logging, os, sys
from mcpkit import Server

logging.getLogger("srv").info("imported")

app = Server("project-server")

@app.tool()
def where() -> dict[str, object]:
    return {"cwd": os.getcwd(), "argv": sys.argv[1:], "greeting": os.environ.get("GREETING")}
"""


def project(tmp_path: Path, config: object, name: str = "mcpkit.json") -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "server.py").write_text(SERVER)
    (tmp_path / "data").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return path


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpkit", "run", *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, **ENV},
    )


FULL = {
    "$schema": "https://gofastmcp.com/public/schemas/fastmcp.json/v1.json",
    "source": {"path": "src/server.py", "entrypoint": "app"},
    "environment": {"python": ">=3.11", "dependencies": ["msgspec>=0.1"]},
    "deployment": {
        "transport": "stdio",
        "cwd": "data",
        "env": {"GREETING": "hello ${MCPKIT_TEST_NAME}"},
        "args": ["--flag", "x"],
        "log_level": "WARNING",
    },
}


@pytest.mark.parametrize("name", ["mcpkit.json", "fastmcp.json"])
async def test_no_target_finds_the_file_and_it_sets_what_it_says(tmp_path: Path, name: str) -> None:
    project(tmp_path, FULL, name)
    params = StdioParameters(
        sys.executable,
        ["-m", "mcpkit", "run"],
        env={**ENV, "MCPKIT_TEST_NAME": "world"},
        cwd=str(tmp_path),
    )
    async with Client(params) as client:
        assert client.server_info.name == "project-server"
        found = (await client.call_tool("where")).structured_content
    assert found == {
        "cwd": str(tmp_path / "data"),
        "argv": ["--flag", "x"],
        "greeting": "hello world",
    }


@starts(2)
async def test_pyproject_tool_table_and_flags_override_it(tmp_path: Path) -> None:
    project(
        tmp_path,
        '[project]\nname = "x"\n\n[tool.mcpkit.source]\npath = "src/server.py:app"\n\n'
        '[tool.mcpkit.deployment]\ntransport = "http"\nport = 1\npath = "/api/mcp"\n',
        "pyproject.toml",
    )
    # --port 0 wins over the file's port 1; its path stays
    async with running(mcpkit("run", "--port", "0"), cwd=tmp_path) as server:
        url = await server.started()
        assert url.endswith("/api/mcp")
        async with httpx.AsyncClient(timeout=WAIT) as client:
            assert (await client.get(url.removesuffix("/api/mcp") + "/healthz")).status_code == 200
    # --transport stdio wins too, and the file's HTTP keys are said unused
    done = run_cli("pyproject.toml", "--transport", "stdio", cwd=tmp_path)
    assert "deployment port, path not used" in done.stderr


async def test_a_fastmcp_file_named_anything_runs_over_http(tmp_path: Path) -> None:
    path = project(
        tmp_path,
        {"source": {"path": "src/server.py"}, "deployment": {"transport": "sse", "port": 0}},
        "prod.json",
    )
    async with running(mcpkit("run", str(path)), cwd=REPO) as server:
        url = await server.started()
        assert url.endswith("/mcp")
    assert "transport 'sse' is served as 'http'" in server.text


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"source": {"path": "src/server.py"}, "deploy": {}}, "unknown key `deploy`: remove it"),
        (
            {"source": {"path": "src/server.py"}, "deployment": {"prot": 1}},
            "unknown key `prot` - at `$.deployment`",
        ),
        (
            {"source": {"path": "src/server.py"}, "deployment": {"port": "80"}},
            "Expected `int | null`, got `str` - at `$.deployment.port`",
        ),
        ({"source": {"path": "src/server.py", "type": "git"}}, "at `$.source.type`"),
        (
            {"source": {"path": "src/server.py"}, "environment": {"dependencies": ["nope-pkg-x"]}},
            "lacks: nope-pkg-x (not installed); mcpkit run installs nothing: install it "
            "(pip install nope-pkg-x) or let uv make the environment: uv run --with mcpkit "
            "--with nope-pkg-x mcpkit run",
        ),
        (
            {"source": {"path": "src/server.py"}, "environment": {"dependencies": ["msgspec<0.1"]}},
            "msgspec<0.1 (0.",
        ),
        ({"source": {"path": "src/server.py"}, "environment": {"python": "2.7"}}, "Python 2.7"),
        (
            {"source": {"path": "src/server.py"}, "deployment": {"transport": "sse", "path": "/x"}},
            "with transport 'sse' is FastMCP's SSE path",
        ),
        ({"source": {"path": "src/server.py", "entrypoint": "create"}}, "no object named"),
        (
            {"source": {"path": "src/server.py"}, "deployment": {"port": 70000}},
            "mcpkit.json: deployment.port 70000 is not a port",
        ),
        (
            {"source": {"path": "src/server.py"}, "deployment": {"store": "mysql://x"}},
            "mcpkit.json: deployment.store: ",
        ),
    ],
)
def test_what_it_cannot_honour_is_refused_naming_it(
    tmp_path: Path, config: object, said: str
) -> None:
    path = project(tmp_path, config)
    done = run_cli(str(path), cwd=tmp_path)
    assert done.returncode != 0 and said in done.stderr, done.stderr


@pytest.mark.parametrize(("level", "shown"), [("INFO", True), ("WARNING", False), (None, False)])
def test_log_level_is_the_level_of_pythons_logging(
    tmp_path: Path, level: str | None, shown: bool
) -> None:
    deployment = {} if level is None else {"log_level": level}
    path = project(tmp_path, {"source": {"path": "src/server.py"}, "deployment": deployment})
    done = run_cli(str(path), cwd=tmp_path)  # stdin at its end: it serves, then stops
    assert ("INFO srv: imported" in done.stderr) is shown, done.stderr


def test_requirements_and_two_project_files(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("# pinned\nmsgspec  # ours\n-e ../lib\n")
    config = {"source": {"path": "src/server.py"}, "environment": {"requirements": "reqs.txt"}}
    done = run_cli(str(project(tmp_path, config)), cwd=tmp_path)
    assert "'-e ../lib' is an option of pip" in done.stderr
    (tmp_path / "fastmcp.json").write_text("{}")
    done = run_cli(cwd=tmp_path)
    assert "has mcpkit.json and fastmcp.json: name the one to run" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(cwd=empty)
    assert done.returncode == 2 and "give a target" in done.stderr


def test_an_mcp_servers_config_is_still_one(tmp_path: Path) -> None:
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"a": {"comand": "x"}}}))
    done = run_cli("mcp.json", cwd=tmp_path)
    assert "has neither command (a process) nor url" in done.stderr, done.stderr


def docs_blocks(kind: str) -> list[str]:
    """The ```KIND blocks of docs/cli.md's "Project files" section."""
    text = (REPO / "docs" / "cli.md").read_text()
    start = text.index("## Project files\n")
    section = text[start : text.index("\n## ", start + 1)]
    return re.findall(rf"```{kind}\n(.*?)```", section, re.S)


@pytest.mark.parametrize("name", ["mcpkit.json", "pyproject.toml"])
async def test_the_docs_project_files_run_as_written(tmp_path: Path, name: str) -> None:
    (tmp_path / "weather.py").write_text(docs_blocks("python")[0])
    (tmp_path / name).write_text(docs_blocks("json" if name == "mcpkit.json" else "toml")[0])
    async with running(mcpkit("run", "--port", "0"), cwd=tmp_path) as server:
        url = await server.started()
        async with Client(url) as client:
            result = await client.call_tool("forecast", {"city": "Lyon"})
    assert result.content[0].text == "Lyon: 21 degrees (metric)"


def test_the_docs_missing_dependency_line(tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text(docs_blocks("python")[0])
    config = json.loads(docs_blocks("json")[0])
    config["environment"]["dependencies"] = ["acme-weather-sdk>=2"]  # a package nobody has
    (tmp_path / "mcpkit.json").write_text(json.dumps(config))
    done = run_cli(cwd=tmp_path)
    (shown,) = docs_blocks("text")
    assert done.stderr == shown.replace("/usr/bin/python3", sys.executable)
