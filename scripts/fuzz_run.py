"""Run the fuzz target (tests/hostile/fuzz_target.py) for a number of minutes; `scripts/fuzz`.

With atheris (coverage-guided, libFuzzer), seeded from tests/hostile/corpus; without it, a
long hypothesis run of the same properties. Each distinct failure (exception type and the
innermost mcpkit frame) is printed once and saved, input and traceback, under WORKDIR/crashes;
the run goes on, so one known bug does not hide the next. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CrashLog", "main"]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "hostile" / "corpus"

# Tokens worth splicing in: JSON-RPC members, methods, and bytes that are not UTF-8.
DICTIONARY = [
    '"jsonrpc"',
    '"2.0"',
    '"id"',
    '"method"',
    '"params"',
    '"result"',
    '"error"',
    '"code"',
    '"message"',
    '"_meta"',
    '"progressToken"',
    '"requestId"',
    '"arguments"',
    '"name"',
    '"initialize"',
    '"ping"',
    '"tools/call"',
    '"notifications/cancelled"',
    '"notifications/progress"',
    '"notifications/initialized"',
    '"sampling/createMessage"',
    '"[[[[[[[[[[[[[[[["',
    '"{\\"a\\":{\\"a\\":"',
    '"\\xff"',
    '"\\xc3"',
    '"\\xed\\xa0\\x80"',
    '"\\\\ud800"',
    '"1e999"',
    '"-0"',
    '"null"',
    '"\\x0a"',
]


class CrashLog:
    """Records each distinct failure once: prints it and saves its input and traceback."""

    def __init__(self, directory: Path, stop: bool) -> None:
        self.directory = directory
        self.stop = stop
        self.seen: set[str] = set()
        self.runs = 0
        directory.mkdir(parents=True, exist_ok=True)

    def run(self, target: Callable[[bytes], None], data: bytes) -> None:
        self.runs += 1
        try:
            target(data)
        except Exception as exc:
            self.record(data, exc)
            if self.stop:
                raise

    def record(self, data: bytes, exc: BaseException) -> None:
        signature = _signature(exc)
        if signature in self.seen:
            return
        self.seen.add(signature)
        digest = hashlib.sha1(data).hexdigest()[:12]
        name = f"crash-{len(self.seen):02d}-{type(exc).__name__}-{digest}"
        text = "".join(traceback.format_exception(exc))
        (self.directory / f"{name}.bin").write_bytes(data)
        (self.directory / f"{name}.txt").write_text(f"{signature}\ninput: {data!r}\n\n{text}")
        print(
            f"\n=== new failure #{len(self.seen)} after {self.runs} inputs: {signature}\n"
            f"    input ({len(data)} bytes): {data[:200]!r}\n    saved as "
            f"{self.directory / name}.bin",
            flush=True,
        )


def _signature(exc: BaseException) -> str:
    """The exception type and the innermost frame in mcpkit (or the target, for a broken
    property), so the same bug reached by many inputs counts once."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/mcpkit/" in f.filename or "fuzz_target" in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = f"{Path(where.filename).name}:{where.lineno} {where.name}" if where else "?"
    return f"{type(exc).__name__} at {place}"


def run_atheris(minutes: float, workdir: Path, log: CrashLog) -> None:
    import atheris

    with atheris.instrument_imports(include=["mcpkit", "hostile"]):
        from hostile.fuzz_target import check_input, method_seeds

    corpus = workdir / "corpus"  # libFuzzer adds new inputs to the first directory only
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(method_seeds()):  # generated, so not kept in the repo
        (corpus / f"method-{number:03d}").write_bytes(seed)
    dictionary = workdir / "json-rpc.dict"
    dictionary.write_text("\n".join(DICTIONARY) + "\n")

    def one_input(data: bytes) -> None:
        log.run(check_input, data)

    args = [
        sys.argv[0],
        f"-max_total_time={max(1, int(minutes * 60))}",
        "-timeout=20",
        "-max_len=8192",
        "-rss_limit_mb=4096",
        f"-dict={dictionary}",
        f"-artifact_prefix={log.directory}/",
        "-print_final_stats=1",
        str(corpus),
        str(SEEDS),
    ]
    atheris.Setup(args, one_input)
    atheris.Fuzz()  # exits the process when the time is up


def run_hypothesis(minutes: float, log: CrashLog) -> None:
    from hostile.fuzz_target import check_input, seeds
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    def splice(seed: bytes, edits: list[tuple[int, bytes]]) -> bytes:
        for at, piece in edits:
            at %= len(seed) + 1
            seed = seed[:at] + piece + seed[at:]
        return seed

    tokens = st.sampled_from(
        [t.encode().decode("unicode_escape").encode("latin-1")[1:-1] for t in DICTIONARY]
    )
    pieces = st.binary(max_size=8) | tokens | st.integers(1, 1500).map(lambda n: b"[" * n)
    inputs = (
        st.binary(max_size=512)
        | st.builds(
            splice,
            st.sampled_from(seeds()),
            st.lists(st.tuples(st.integers(0, 4096), pieces), max_size=4),
        )
        | st.lists(st.sampled_from(seeds()), min_size=1, max_size=4).map(b"\n".join)
    )

    @settings(
        max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(inputs)
    def batch(data: bytes) -> None:
        log.run(check_input, data)

    end = time.monotonic() + minutes * 60
    while time.monotonic() < end:
        batch()
    print(f"\nhypothesis: {log.runs} inputs, {len(log.seen)} distinct failures", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long to run")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the growing corpus and the crashes go (default: a new temporary directory)",
    )
    parser.add_argument(
        "--stop-on-crash",
        action="store_true",
        help="stop at the first failure instead of collecting distinct ones",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args: Any = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mcpkit-fuzz-"))
    log = CrashLog(workdir / "crashes", args.stop_on_crash)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    print(f"fuzzing with {engine} for {args.minutes:g} min; work in {workdir}", flush=True)
    if engine == "atheris" and args.child:
        run_atheris(args.minutes, workdir, log)  # libFuzzer ends the process itself
    elif engine == "atheris":
        # libFuzzer exits the process when its time is up, so it runs in a child and this
        # process reports what it left behind.
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--engine",
                "atheris",
                "--minutes",
                str(args.minutes),
                "--workdir",
                str(workdir),
                *(["--stop-on-crash"] if args.stop_on_crash else []),
            ],
            check=False,
        )
        log.seen = {path.read_text().splitlines()[0] for path in log.directory.glob("crash-*.txt")}
    else:
        run_hypothesis(args.minutes, log)
    print(
        f"\n{len(log.seen)} distinct failures"
        + "".join(f"\n  {s}" for s in sorted(log.seen))
        + (f"\ninputs and tracebacks in {log.directory}" if log.seen else "")
    )
    return 1 if log.seen else 0


if __name__ == "__main__":
    sys.exit(main())
