"""The release check (scripts/release_check.py): the sdist and wheel build, pass `twine
check`, hold what they should, and the wheel installed into a new virtualenv runs the README's
demo; and the check itself refuses what must not ship."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from release_check import sdist_problems, wheel_problems  # noqa: E402  (scripts/ just above)

#: The whole check's limit (each of its steps has its own, in the script).
CHECK_SECONDS = 1200


def test_the_built_wheel_installs_and_runs_the_readme_demo() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "release_check.py")],
        capture_output=True,
        text=True,
        timeout=CHECK_SECONDS,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "the installed wheel ran the README's demo" in done.stdout
    print(done.stdout)  # the sizes, in the test's output


def test_a_wheel_with_tests_caches_or_no_marker_is_refused() -> None:
    schemas = "mcpkit/types/schemas/"
    data = [f"{schemas}server-card.schema.json", f"{schemas}registry-server.schema.json"]
    good = ["mcpkit/__init__.py", "mcpkit/py.typed", *data, "mcpkit-0.1.0.dist-info/METADATA"]
    assert wheel_problems(good) == []
    bad = [*good, "tests/test_x.py", "mcpkit/__pycache__/x.cpython-311.pyc", "bench/run"]
    found = wheel_problems(bad)
    assert any("tests/test_x.py" in p for p in found)
    assert any("__pycache__" in p for p in found)
    assert any("bench/run" in p for p in found)
    assert wheel_problems(["mcpkit/__init__.py", *data]) == ["the wheel has no mcpkit/py.typed"]
    assert wheel_problems([*good[:3], *good[4:]]) == [f"the wheel has no {data[1]}"]


def test_an_sdist_with_an_environment_or_a_key_is_refused() -> None:
    assert sdist_problems(["src/mcpkit/__init__.py", "tests/test_x.py", "README.md"]) == []
    found = sdist_problems([".venv/bin/python", "tests/interop/node_modules/x/index.js", "a.pem"])
    assert len(found) == 3
