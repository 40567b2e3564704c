"""The limits are defined once, and sharing them costs a transport no protocol import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from mcpkit.protocol import limits, session
from mcpkit.transports import _lines


def test_each_limit_has_one_definition() -> None:
    assert _lines.DEFAULT_MAX_MESSAGE_SIZE is limits.DEFAULT_MAX_MESSAGE_SIZE
    assert session.DEFAULT_MAX_MESSAGE_SIZE is limits.DEFAULT_MAX_MESSAGE_SIZE
    assert session.MAX_JSON_DEPTH is limits.MAX_JSON_DEPTH


def test_limits_imports_nothing_of_its_own() -> None:
    tree = ast.parse(Path(limits.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "typing"}
    assert not any(isinstance(node, ast.Import) for node in ast.walk(tree))


def test_the_stdio_server_transport_loads_no_protocol_core() -> None:
    code = (
        "import sys, mcpkit.transports.stdio_server; "
        "print(sorted(m for m in sys.modules if m.startswith('mcpkit.protocol')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "['mcpkit.protocol', 'mcpkit.protocol.limits']"
