"""The docs site builds as mkdocs.yml says, strictly (a broken link or anchor, a page left out
of the nav, a docstring mkdocstrings cannot render fails the build), and its API reference
holds every public name of the modules it documents."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "docs" / "reference"
#: How long one strict build may take (about 20 s on a loaded two-core machine).
BUILD_SECONDS = 300


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    return subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_SECONDS
    )


def test_the_site_builds_strictly_with_every_public_name_in_its_reference(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    built = _build(site)
    assert built.returncode == 0, built.stderr[-4000:]
    pages = sorted(REFERENCE.glob("*.md"))
    assert pages, "docs/reference/ has no page"
    for page in pages:
        module_name = page.stem
        assert f"::: {module_name}" in page.read_text(encoding="utf-8"), page
        module = importlib.import_module(module_name)
        html = (site / "reference" / module_name / "index.html").read_text(encoding="utf-8")
        ids = set(re.findall(r'id="([A-Za-z0-9_.]+)"', html))
        # (`__version__` is left out, as every name the filters of mkdocs.yml leave out)
        public = [n for n in module.__all__ if not n.startswith("_")]
        missing = [n for n in public if f"{module_name}.{n}" not in ids]
        assert not missing, f"{module_name}'s reference page lacks {missing}"
    changelog = (site / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog  # CHANGELOG.md itself, not the stand-in page
