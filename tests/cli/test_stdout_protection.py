"""Whatever user code prints goes to stderr, never into the protocol stream (spec:
basic/transports, stdio), under `mcpkit run` and under `python file.py` alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mcpkit import Client, StdioParameters

SRC = str(Path(__file__).resolve().parents[2] / "src")  # this checkout, not an installed one

NOISY_SERVER = """\
import logging, os, sys
from mcpkit import Server

print("printed at import time")             # still in sys.stdout's buffer at server.run()
sys.stdout.write("written to sys.stdout at import time\\n")
if os.environ.get("CHILD_AT_IMPORT"):
    os.system("echo printed by a child at import time")
logging.getLogger("user").addHandler(logging.StreamHandler(sys.stdout))

server = Server("noisy")

@server.tool()
def sync_tool() -> str:
    print("printed in a sync tool")
    logging.getLogger("user").warning("logged to a handler made on sys.stdout")
    return "sync"

@server.tool()
async def async_tool() -> str:
    print("printed in an async tool")
    return "async"

@server.tool()
def child_process() -> str:
    os.system("echo printed by a child process")
    return "child"

if __name__ == "__main__":
    server.run()
"""

EXPECTED_ON_STDERR = [
    "printed at import time",
    "written to sys.stdout at import time",
    "printed in a sync tool",
    "logged to a handler made on sys.stdout",
    "printed in an async tool",
    "printed by a child process",
]


@pytest.mark.parametrize("how", ["mcpkit run", "python file.py"])
async def test_prints_go_to_stderr_and_the_client_works(tmp_path: Path, how: str) -> None:
    path = tmp_path / "noisy.py"
    path.write_text(NOISY_SERVER)
    # Under `python file.py` nothing of ours runs before the file's own code, so a child
    # process started at import time writes to the real stdout: `mcpkit run` covers that.
    under_run = how == "mcpkit run"
    args = ["-m", "mcpkit", "run", str(path)] if under_run else [str(path)]
    env = {"PYTHONPATH": SRC, "CHILD_AT_IMPORT": "1" if under_run else ""}
    log = tmp_path / "stderr.log"
    with open(log, "wb") as log_file:
        params = StdioParameters(sys.executable, args, env=env, stderr=log_file)
        async with Client(params) as client:
            assert client.server_info.name == "noisy"
            for tool, answer in [
                ("sync_tool", "sync"),
                ("async_tool", "async"),
                ("child_process", "child"),
            ]:
                result = await client.call_tool(tool)
                assert not result.is_error and result.text == answer
            await client.ping()
    printed = log.read_text()
    for line in EXPECTED_ON_STDERR:
        assert line in printed
    if under_run:
        assert "printed by a child at import time" in printed
