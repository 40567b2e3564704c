"""A fake machine for the host-config tests: each host's file at its place under a home and a
project folder of a tmp_path, in each host's own shape, as Linux places them; `mcpkit` run
there with HOME, APPDATA and XDG_CONFIG_HOME pointing in it (the real home is never read)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcpkit.client.host_configs.configured import Places

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "everything.py"
RUN = {"command": sys.executable, "args": ["-m", "mcpkit", "run", str(EXAMPLE)]}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


class Machine:
    """A home and a project folder, each host's files in them as Linux places them."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.cwd = root / "project"
        self.cwd.mkdir(parents=True)
        self.home.mkdir()
        config = self.home / ".config"
        write(
            config / "Claude" / "claude_desktop_config.json",
            json.dumps({"globalShortcut": "", "mcpServers": {"everything": RUN}}),
        )
        write(
            self.home / ".claude.json",
            json.dumps(
                {
                    "numStartups": 3,
                    "mcpServers": {"shared": {"type": "stdio", "command": "shared-server"}},
                    "projects": {
                        str(self.cwd): {"mcpServers": {"mine": {"command": "local-server"}}},
                        "/elsewhere": {"mcpServers": {"other": {"command": "x"}}},
                    },
                }
            ),
        )
        write(self.cwd / ".mcp.json", json.dumps({"mcpServers": {"shared": {"command": "p"}}}))
        # Cursor and VS Code take comments and trailing commas (JSONC)
        cursor_entry = {**RUN, "env": {"GREETING": "hello"}, "cwd": str(self.cwd)}
        write(
            self.home / ".cursor" / "mcp.json",
            '{\n  // my servers\n  "mcpServers": {\n    "everything": '
            + json.dumps(cursor_entry)
            + ',\n    "off": {"command": "off-server", "disabled": true, /* old */},\n  },\n}\n',
        )
        write(
            self.cwd / ".vscode" / "mcp.json",
            json.dumps(
                {
                    "inputs": [{"type": "promptString", "id": "key", "password": True}],
                    "servers": {
                        "remote": {
                            "type": "http",
                            "url": "https://example.invalid/mcp",
                            "headers": {"Authorization": "Bearer ${input:key}"},
                        }
                    },
                }
            ),
        )
        write(
            config / "Code" / "User" / "mcp.json",
            json.dumps({"servers": {"git": {"type": "stdio", "command": "git-mcp"}}}),
        )
        write(
            self.home / ".gemini" / "settings.json",
            json.dumps(
                {
                    "theme": "Default",
                    "mcpServers": {
                        "stream": {"httpUrl": "http://127.0.0.1:1/mcp", "timeout": 5000},
                        "old": {"url": "http://127.0.0.1:1/sse", "trust": True},
                    },
                }
            ),
        )
        write(
            config / "goose" / "config.yaml",
            "GOOSE_PROVIDER: openai\n"
            "extensions:\n"
            "  developer: {name: developer, type: builtin, enabled: true}\n"
            "  fetch:\n    name: fetch\n    type: stdio\n    cmd: uvx\n"
            "    args: [mcp-server-fetch]\n    envs: {A: '1'}\n    enabled: false\n"
            "    timeout: 300\n"
            "  web:\n    name: web\n    type: streamable_http\n    uri: http://127.0.0.1:2/mcp\n"
            "    enabled: true\n",
        )
        write(self.cwd / "mcp.json", json.dumps({"mcpServers": {"here": {"command": "h"}}}))

    def places(self, platform: str = "linux", **environ: str) -> Places:
        return Places(self.home, self.cwd, platform, environ)

    def environ(self) -> dict[str, str]:
        """The environment `mcpkit` runs with here: this machine's home, never the real one."""
        env = {**os.environ, "HOME": str(self.home), "PYTHONPATH": str(REPO / "src")}
        env.pop("XDG_CONFIG_HOME", None)
        env["APPDATA"] = str(self.home / "AppData" / "Roaming")
        return env

    def mcpkit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcpkit", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env=self.environ(),
        )
