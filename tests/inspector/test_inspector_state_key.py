"""The connection panel's State key (issue 63): sent as `_meta["io.mcpkit/stateKey"]` with each
request that runs a handler, so the docs' State example (docs/server.md, notes_state.py) works
from the inspector under 2026-07-28; the page is told whether a key is set, never the key.
(test_inspector_state_key_page.py has the panel's field in a browser.)"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import httpx
import pytest
from _inspector_harness import log_in, served

from mcpkit.inspector.hub import InspectorHub
from mcpkit.inspector.panel_settings import ConnectionSettings

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests" / "examples") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "examples"))
from _doc_snippets import files, source_of  # noqa: E402 (found once its folder is on the path)


def notes_state(folder: Path) -> Path:
    """docs/server.md's notes_state.py, saved as a reader saves it."""
    path = folder / "notes_state.py"
    path.write_text(source_of(files("docs/server.md")["notes_state.py"]))
    return path


def remember(note: str) -> dict[str, object]:
    call = {"name": "remember", "arguments": {"note": note}}
    return {"method": "tools/call", "params": call}


async def test_the_state_key_field_reaches_the_callers_state(tmp_path: Path) -> None:
    notes = notes_state(tmp_path)
    key = secrets.token_urlsafe(32)
    hub = InspectorHub(initial_target=str(notes))
    async with served(hub) as (base, app), httpx.AsyncClient(timeout=30) as http:
        await log_in(http, base, app)
        api = f"{base}/api"
        keyless = {"target": str(notes), "settings": {"protocol": "2026-07-28"}}
        assert "result" in (await http.post(f"{api}/connect", json=keyless)).json()
        refused = (await http.post(f"{api}/request", json=remember("milk"))).json()
        keyed = {"target": str(notes), "settings": {"protocol": "2026-07-28", "stateKey": key}}
        assert "result" in (await http.post(f"{api}/connect", json=keyed)).json()
        await http.post(f"{api}/request", json=remember("milk"))
        second = (await http.post(f"{api}/request", json=remember("eggs"))).json()
        told = (await http.post(f"{api}/state", json={})).json()["result"]
        await http.post(f"{api}/disconnect", json={})
    assert "the inspector's State key field" in refused["error"]["message"]
    assert second["result"]["structuredContent"] == {"result": ["milk", "eggs"]}
    assert told["settings"]["stateKey"] is True
    assert key not in str(told)


@pytest.mark.parametrize(
    ("sent", "says"),
    [
        ("guessable", "characters, not 9:"),
        (42, "not the int 42:"),
        (["k"], r"not the list \['k'\]:"),
    ],
)
def test_a_state_key_too_short_to_be_secret_is_refused(sent: object, says: str) -> None:
    with pytest.raises(ValueError, match=f"stateKey: a state key must be .*{says}"):
        ConnectionSettings.from_json({"stateKey": sent})
    assert ConnectionSettings.from_json({"stateKey": ""}).state_key is None
