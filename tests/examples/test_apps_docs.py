"""docs/apps.md works as written: its script runs as it is and prints what the doc shows."""

from __future__ import annotations

from pathlib import Path

from _doc_scripts import REPO, printed_block, run_script, script_blocks


def test_the_apps_script_prints_what_the_doc_says(tmp_path: Path) -> None:
    name, source, printed = printed_block(REPO / "docs" / "apps.md")
    assert run_script(tmp_path, name, source) == printed


def test_the_extension_script_runs_and_its_request_is_served(tmp_path: Path) -> None:
    source = script_blocks(REPO / "docs" / "apps.md")["audit_extension.py"]
    assert run_script(tmp_path, "audit_extension.py", source) == "{'level': 2}\n1\n"
