"""scripts/gen_types.py on a fixture of its own (tests/types_fixture, hand-written, not a spec
copy): --check and its diff, schema.ts winning over schema.json's `integer`, the list of
disagreements. Checking the committed types against the spec is `gen_types.py --check SPEC_DIR`
(.ci/run runs it where ../shared/spec exists): a clone holds no spec."""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "types_fixture"
FIXTURE_REVISIONS = (*MODERN_REVISIONS, *SUPPORTED_REVISIONS, "2099-01-01")  # last: listed only


def decode(data: Any, tp: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=tp)


def fixture_spec(tmp_path: Path) -> Path:
    """A spec folder holding the fixture as every revision, as `schema/<revision>/`."""
    for revision in FIXTURE_REVISIONS:
        folder = tmp_path / "spec" / "schema" / revision
        folder.mkdir(parents=True)
        for name in ("schema.json", "schema.ts"):
            shutil.copy(FIXTURE / name, folder / name)
    return tmp_path / "spec"


def run_generator(spec: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = REPO / "scripts" / "gen_types.py"
    return subprocess.run(
        [
            sys.executable,
            str(script),
            *args,
            "--out",
            str(out),
            "--doc",
            str(out / "d.md"),
            str(spec),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # msgspec resolves the annotations through it
    spec.loader.exec_module(module)
    return module


def test_check_flag_reports_stale_output_with_its_diff(tmp_path: Path) -> None:
    spec, out = fixture_spec(tmp_path), tmp_path / "out"
    missing = run_generator(spec, out, "--check")
    assert missing.returncode == 1 and "methods.py: stale" in missing.stderr  # nothing yet
    assert run_generator(spec, out).returncode == 0
    assert run_generator(spec, out, "--check").returncode == 0
    assert run_generator(spec / "schema", out, "--check").returncode == 0  # the schema folder
    methods = out / "methods.py"
    methods.write_text(methods.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    stale = run_generator(spec, out, "--check")
    assert stale.returncode == 1 and "methods.py: stale" in stale.stderr
    assert "-# edited" in stale.stderr  # the diff says what differs


def test_schema_ts_wins_where_schema_json_says_integer(tmp_path: Path) -> None:
    spec, out = fixture_spec(tmp_path), tmp_path / "out"
    assert run_generator(spec, out).returncode == 0
    mod = load(out / "_gen_2025_11_25.py")
    answer = {"action": "accept", "content": {"ratio": 1.5, "count": 3, "ok": True}}
    result = decode(answer, mod.ElicitResult)
    assert result.content == answer["content"]
    assert type(result.content["count"]) is int  # a whole number keeps its form
    assert msgspec.json.encode(result) == msgspec.json.encode(answer)
    assert decode({"name": "f", "timeout": 2.5}, mod.CallToolRequestParams).timeout == 2.5
    assert decode({"sizes": [1, 2.5], "score": 3}, mod.CallToolResult).sizes == [1, 2.5]
    progress = {"progressToken": 1, "progress": 1, "total": 2.5}
    assert decode(progress, mod.ProgressNotificationParams).total == 2.5
    # JSON-RPC's integers stay integers: the error code, request ids and progress tokens.
    for data, tp in [
        ({"code": 1.5, "message": "m"}, mod.Error),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, mod.PingRequest),
        ({"progressToken": 0.5, "progress": 1}, mod.ProgressNotificationParams),
    ]:
        with pytest.raises(msgspec.ValidationError, match="Expected `int"):
            decode(data, tp)


def test_every_disagreement_of_every_revision_is_listed(tmp_path: Path) -> None:
    spec, out = fixture_spec(tmp_path), tmp_path / "out"
    assert run_generator(spec, out).returncode == 0
    doc = (out / "d.md").read_text(encoding="utf-8")
    assert [line[3:] for line in doc.splitlines() if line.startswith("## ")] == sorted(
        FIXTURE_REVISIONS, reverse=True
    )
    section = doc.split("## 2099-01-01")[1].split("## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    paths = [row.split("`")[1] for row in rows]
    assert paths == [
        "RequestId",
        "ProgressToken",
        "Error.code",
        "CallToolRequestParams.timeout",
        "CallToolResult.sizes.items",
        "ElicitResult.content.additionalProperties.anyOf[1]",
        "StringSchema.minLength",
        "ProgressNotificationParams.total",
    ]
    assert rows[2].endswith(
        "integer, kept: JSON-RPC 2.0 (which basic/index makes the wire "
        "format) §5.1: the code MUST be an integer |"
    )
    assert "| `string \\| number \\| boolean \\| string[]` | number (schema.ts) |" in rows[5]
    assert "integer, kept: JSON Schema 2020-12 Validation §6.3.2" in rows[6]
    # Annotated `@TJS-type number` (score, progress) or a const (-32042): no disagreement.
    assert "score" not in section and ".progress " not in section and "UrlRequired" not in section


def test_the_committed_deviations_doc_lists_elicitation_answers() -> None:
    doc = (REPO / "docs" / "spec-deviations.md").read_text(encoding="utf-8")
    for revision in ("2025-11-25", "2025-06-18"):
        section = doc.split(f"## {revision}")[1].split("## ")[0]
        assert "| `ElicitResult.content.additionalProperties" in section
    assert doc.startswith("# Where the MCP schema's two forms disagree")


def gen_types_ts() -> Any:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        return importlib.import_module("gen_types_ts")
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_an_integer_schema_ts_does_not_declare_stops_the_generator() -> None:
    ts = gen_types_ts()
    source = ts.TsSource("export interface A {\n  n: string;\n}\n")
    with pytest.raises(SystemExit, match=re.escape("A.n is integer, schema.ts says 'string'")):
        ts.integer_disagreements({"A": {"properties": {"n": {"type": "integer"}}}}, source)
    with pytest.raises(SystemExit, match=re.escape("no declaration for schema.json's B.n")):
        ts.integer_disagreements({"B": {"properties": {"n": {"type": "integer"}}}}, source)


def test_the_typescript_reader_follows_extends_intersections_and_arrays() -> None:
    ts = gen_types_ts()
    source = ts.TsSource(
        "export interface Base { /** a; b */ size?: number; }\n"
        'export interface Mid extends Omit<Base, "x"> { tags: Array<number>; }\n'
        "export type Both = Mid & { extra: { [key: string]: number | string } };\n"
    )
    assert source.interface_member("Mid", "size") == "number"
    assert ts.integer_disagreements(
        {
            "Both": {
                "properties": {
                    "size": {"type": "integer"},
                    "tags": {"items": {"type": "integer"}},
                    "extra": {"additionalProperties": {"type": ["integer", "string"]}},
                }
            }
        },
        source,
    )[2][0] == ts.Disagreement("Both.extra.additionalProperties", "number | string")
