"""`bench/run --only core --against REV`: this checkout beside another revision, same run.

REV is checked out into a temporary `git worktree` (removed when the run ends, however it
ends), and every server that imports mcpkit is measured twice a round, once with this
checkout's src first on PYTHONPATH and once with REV's, one right after the other (the order
turned round every other round with the rest of the steps), so that the machine's drift falls
on both alike. The servers without mcpkit (the official SDK, the TypeScript SDKs, the floors)
are measured once a round and stand for both, so a ratio's change is mcpkit's alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from http_bench import BY_KEY, StepFailed

__all__ = ["AGAINST", "checkout", "merge_steps", "split_samples", "tree_env"]

REPO = Path(__file__).resolve().parent.parent
AGAINST = "against:"  # the prefix of REV's sample keys

Step = tuple[str, Callable[[], dict[str, Any]]]
Samples = dict[str, dict[str, list[float]]]


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise StepFailed(f"git {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout.strip()


def _end_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds like ctrl-C, so the worktree is removed


@contextmanager
def checkout(rev: str) -> Iterator[tuple[Path, str]]:
    """A detached worktree of `rev` in a temporary folder, and its short hash; removed (and
    git's record of it pruned) on leaving, on an error, ctrl-C or SIGTERM alike."""
    try:
        commit = _git("rev-parse", "--verify", "--short", f"{rev}^{{commit}}")
    except StepFailed as exc:
        raise StepFailed(f"--against {rev!r}: not a revision of {REPO}: {exc}") from None
    parent = Path(tempfile.mkdtemp(prefix="mcpkit-against-"))
    tree = parent / commit
    previous = signal.signal(signal.SIGTERM, _end_on_sigterm)
    try:
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit)
        yield tree, commit
    finally:
        try:
            _git("worktree", "remove", "--force", str(tree))
        except StepFailed:
            pass  # never added, or already gone: the prune below drops any record left
        shutil.rmtree(parent, ignore_errors=True)
        _git("worktree", "prune")
        signal.signal(signal.SIGTERM, previous)


def tree_env(env: dict[str, str], tree: Path, python: str) -> dict[str, str]:
    """`env` with `tree`'s src first on PYTHONPATH; refused unless `python` then imports
    mcpkit from there."""
    src = tree / "src"
    found = dict(env)
    found["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH")) if p)
    probe = [python, "-c", "import mcpkit; print(mcpkit.__file__)"]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=60, env=found)
    where = done.stdout.strip()
    if done.returncode != 0 or not Path(where).is_relative_to(src):
        raise StepFailed(
            f"{python} with PYTHONPATH={found['PYTHONPATH']} imports mcpkit from "
            f"{where or done.stderr.strip()[-500:]}, not from {src}"
        )
    return found


def _runs_mcpkit(key: str) -> bool:
    """Whether the sample key `http:<variant>:<answers>` is of a server that imports mcpkit."""
    return BY_KEY[key.split(":")[1]].runs_mcpkit


def merge_steps(ours: list[Step], theirs: list[Step]) -> list[Step]:
    """One round: each step of `ours`, and right after it REV's of the same server when the
    server imports mcpkit (`ours` and `theirs` are the same plan under two environments)."""
    steps: list[Step] = []
    for (key, mine), (their_key, other) in zip(ours, theirs, strict=True):
        assert key == their_key, (key, their_key)
        steps.append((key, mine))
        if _runs_mcpkit(key):
            steps.append((AGAINST + key, other))
    return steps


def split_samples(samples: Samples) -> tuple[Samples, Samples]:
    """This checkout's samples, and REV's with the shared servers' samples beside them."""
    ours = {k: v for k, v in samples.items() if not k.startswith(AGAINST)}
    theirs = {k: v for k, v in ours.items() if not (k.startswith("http:") and _runs_mcpkit(k))}
    theirs |= {k.removeprefix(AGAINST): v for k, v in samples.items() if k.startswith(AGAINST)}
    return ours, theirs
