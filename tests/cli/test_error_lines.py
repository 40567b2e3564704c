"""Every way the command line fails says so in `error: ` lines on stderr, whatever the verb
and wherever the failure starts (TARGET, connection, the server, the verb itself): the one
prefix docs/cli.md promises, never `Error:` or `mcpkit:`, and no traceback of ours."""

from __future__ import annotations

import pytest
from _verbs import SERVER, cli

S = str(SERVER)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/mcp", "http://:80/mcp"])
def test_a_malformed_url_is_one_line_before_any_connection(url: str) -> None:
    ran = cli("list", url)
    assert ran.code == 3, ran.err
    assert ran.err.splitlines() == [ran.err.strip()], ran.err  # one line, no traceback
    assert ran.err.startswith(f"error: {url!r}"), ran.err
