"""Files generated once for the codegen tests: from examples/everything.py through the command
line, and from the hostile tool list through the generators."""

from __future__ import annotations

from pathlib import Path

import pytest
from _codegen_files import EVERYTHING
from _hostile_tools import SERVER_NAME, TOOLS

from mcpkit.cli.main import main
from mcpkit.codegen import cli_script, client_module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("generated")
    for kind in ("client", "cli"):
        out = where / f"everything_{kind}.py"
        assert main(["generate", kind, str(EVERYTHING), "-o", str(out)]) == 0
    (where / "hostile_client.py").write_text(client_module(TOOLS, SERVER_NAME), encoding="utf-8")
    script = cli_script(TOOLS, SERVER_NAME, "hostile.py")
    (where / "hostile_cli.py").write_text(script, encoding="utf-8")
    # a server without tools (or without the tools capability) still gets files
    (where / "empty_client.py").write_text(client_module([], ""), encoding="utf-8")
    (where / "empty_cli.py").write_text(cli_script([], "", "empty.py"), encoding="utf-8")
    return where
