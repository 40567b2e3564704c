"""`--state-key`: the docs' State example (docs/server.md, notes_state.py) from the command
line. Without a session or a token its caller's state needs a key in
`_meta["io.mcpkit/stateKey"]`, which the command line could not send (issue 63): now
`--state-key` sends it, two runs with one key share their notes, and the refusal without one
names the option."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import pytest
from _verbs import REPO, WAIT, acli, cli

# tests/http's helpers, importable once _verbs has put their folder on the path
from _running import mcpkit, running  # isort: skip

if str(REPO / "tests" / "examples") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "examples"))
from _doc_snippets import files, source_of


def notes_state(folder: Path) -> Path:
    """docs/server.md's notes_state.py, saved as a reader saves it."""
    path = folder / "notes_state.py"
    path.write_text(source_of(files("docs/server.md")["notes_state.py"]))
    return path


# A server and four command lines, one after another (each a Python start): each step has its
# own bound (WAIT), their sum passed the default whole-test bound on a busy machine.
@pytest.mark.mcpkit_timeout(WAIT * 4)
async def test_two_runs_with_one_state_key_share_the_callers_state(tmp_path: Path) -> None:
    key, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    served = ["run", str(notes_state(tmp_path)), "--transport", "http", "--port", "0"]
    async with running(mcpkit(*served)) as server:
        url = await server.started()
        refused = await acli("call", url, "remember", "note=milk")
        first = await acli("call", url, "remember", "note=milk", "--state-key", key)
        second = await acli("call", url, "--state-key", key, "remember", "note=eggs", "--json")
        theirs = await acli("call", url, "remember", "note=tea", "--state-key", other)
    assert refused.code == 1
    assert "-32602" in refused.err and "mcpkit call --state-key KEY" in refused.err
    assert "the inspector's State key field" in refused.err
    assert '_meta["io.mcpkit/stateKey"]' in refused.err
    assert "--protocol 2025-11-25" in refused.err
    assert first.code == 0, first.err
    assert second.code == 0, second.err
    assert json.loads(second.out)["structuredContent"] == {"result": ["milk", "eggs"]}
    assert theirs.code == 0 and '"tea"' in theirs.out and "milk" not in theirs.out


def test_a_short_state_key_is_a_usage_error_over_stdio_too(tmp_path: Path) -> None:
    path = str(notes_state(tmp_path))
    short = cli("call", path, "remember", "note=milk", "--state-key", "guessable")
    kept = cli("call", path, "remember", "note=milk", "--state-key", secrets.token_urlsafe(32))
    # One key in 64 of `token_urlsafe` begins with "-": it is still the option's value.
    dashed = cli("call", path, "remember", "note=tea", "--state-key", "-" + "k" * 40)
    assert dashed.code == 0, dashed.err
    assert '"tea"' in dashed.out
    assert short.code == 2
    assert "--state-key: a state key must be a string of 32 to 256 characters, not 9" in short.err
    assert kept.code == 0, kept.err
    assert '"milk"' in kept.out
