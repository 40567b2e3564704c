"""The release check: what `pip install mcpkit` would get is built, checked and run.

    python scripts/release_check.py [--keep DIR]

1. `python -m build` makes the sdist and the wheel from the checkout (into a new folder).
2. `twine check` passes on both (the metadata PyPI renders: the README as the long
   description, the classifiers).
3. The wheel holds the package and its data only: no tests, bench, examples, scripts, caches
   or compiled files; the sdist holds no virtualenv, node_modules, cache or secret-looking file.
   Both sizes are printed.
4. The wheel is installed into a new virtualenv (its dependencies from the index pip is set up
   with), and the README's demo (`python examples/client.py`) runs with that interpreter from
   outside the checkout, so the mcpkit it imports is the installed one (checked).

Each failure exits 1 with one line saying what. tests/test_release.py runs it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

__all__ = ["main", "wheel_problems", "sdist_problems"]

REPO = Path(__file__).resolve().parents[1]
#: Each step's limit, in seconds (the install fetches the dependencies).
BUILD_SECONDS = 300
CHECK_SECONDS = 120
INSTALL_SECONDS = 600
DEMO_SECONDS = 120

#: Top-level folders of the checkout no wheel may carry.
_NOT_SHIPPED = ("tests/", "bench/", "examples/", "scripts/", "docs/", "deploy/")
#: Parts of a path no artefact may carry: caches, environments, dependencies, secrets.
_NEVER = (
    "__pycache__/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".venv",
    "node_modules/",
)
_SECRET_SUFFIXES = (".pem", ".key", ".env")
#: Data the package reads at run time: the typing marker, and the JSON Schemas it checks
#: Server Cards and the registry's server.json against.
_DATA = (
    "mcpkit/py.typed",
    "mcpkit/types/schemas/server-card.schema.json",
    "mcpkit/types/schemas/registry-server.schema.json",
)


def wheel_problems(names: list[str]) -> list[str]:
    """What is wrong with a wheel holding `names` (empty: nothing)."""
    problems = [f"the wheel holds {n}" for n in names if n.startswith(_NOT_SHIPPED)]
    problems += [f"the wheel holds {n}" for n in names if n.endswith((".pyc", ".pyo"))]
    problems += [f"the wheel holds {n}" for n in names if any(p in n for p in _NEVER)]
    problems += [f"the wheel has no {data}" for data in _DATA if data not in names]
    return problems


def sdist_problems(names: list[str]) -> list[str]:
    """What is wrong with an sdist holding `names` (empty: nothing)."""
    problems = [f"the sdist holds {n}" for n in names if any(p in n for p in _NEVER)]
    problems += [f"the sdist holds {n}" for n in names if n.endswith(_SECRET_SUFFIXES)]
    return problems


def _run(what: str, cmd: list[str], seconds: float, cwd: Path = REPO) -> str:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"release check: {what} took over {seconds:.0f} s") from None
    if done.returncode:
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"release check: {what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _kib(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.0f} KiB"


def check(folder: Path) -> None:
    dist = folder / "dist"
    _run("python -m build", [sys.executable, "-m", "build", "--outdir", str(dist)], BUILD_SECONDS)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"release check: build made {[p.name for p in dist.iterdir()]}")
    wheel, sdist = wheels[0], sdists[0]
    _run(
        "twine check",
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        CHECK_SECONDS,
    )
    with zipfile.ZipFile(wheel) as zf:
        problems = wheel_problems(zf.namelist())
    with tarfile.open(sdist) as tf:
        problems += sdist_problems([m.name.partition("/")[2] for m in tf.getmembers()])
    if problems:
        raise SystemExit("release check: " + "; ".join(problems[:20]))
    print(f"wheel {wheel.name}: {_kib(wheel)}; sdist {sdist.name}: {_kib(sdist)}")
    env_dir = folder / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(
        "installing the wheel",
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        INSTALL_SECONDS,
    )
    where = _run(
        "importing mcpkit",
        [str(python), "-c", "import mcpkit; print(mcpkit.__file__)"],
        DEMO_SECONDS,
        cwd=folder,
    )
    if not Path(where.strip()).is_relative_to(env_dir):
        raise SystemExit(f"release check: the new venv imported mcpkit from {where.strip()}")
    out = _run(
        "the README's demo",
        [str(python), str(REPO / "examples" / "client.py")],
        DEMO_SECONDS,
        cwd=folder,
    )
    if "tools" not in out:
        raise SystemExit(f"release check: the demo printed no tools:\n{out[-2000:]}")
    print("the installed wheel ran the README's demo")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="build in DIR and keep it (else a temp folder)")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        check(args.keep.resolve())
        return 0
    with tempfile.TemporaryDirectory(prefix="mcpkit-release-") as name:
        check(Path(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
