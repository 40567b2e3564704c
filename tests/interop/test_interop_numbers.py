"""Numbers in form elicitation with the official Python SDK's client: it answers 2.5 to a
`float` field of an mcpkit server, 3 to a float and 3.0 to an `int`, directly and through
`mcpkit proxy`. schema.ts types an answer's values `number` (schema.json says `integer`:
docs/spec-deviations.md); the SDK follows schema.ts."""

from __future__ import annotations

import json
from typing import Any

from interop_harness import run_peer_client, run_summary, through_proxy

SUITE = "numbers"
EXPECTED = [
    {"ratio": [2.5, "float"], "quantity": [3, "int"], "speed": [1.5, "float"]},
    {"ratio": [3.0, "float"], "quantity": [3, "int"], "speed": [1.5, "float"]},
]


def check(summary: dict[str, Any]) -> None:
    assert summary["client"] == "official"
    assert [json.loads(r) if isinstance(r, str) else r for r in summary["results"]] == EXPECTED
    speed = summary["schemas"][0]["properties"]["speed"]
    assert speed == {"type": "number", "default": 1.5}


def test_the_official_client_answers_fractions_to_an_mcpkit_server() -> None:
    check(run_peer_client("official", "mcpkit", SUITE))


def test_the_official_client_answers_fractions_through_mcpkit_proxy() -> None:
    check(run_summary(through_proxy("official", "mcpkit", SUITE), "through mcpkit proxy"))
