"""Generate mcpkit's wire types from the MCP schema: one module per revision, plus the method table.

Usage: python scripts/gen_types.py [--check] [--out DIR] [--doc FILE] SPEC_DIR

SPEC_DIR (the spec, or its `schema/` folder) holds `<revision>/schema.json` and
`<revision>/schema.ts` for each supported revision. The script writes `_gen_<revision>.py`
for each, `__init__.py` (re-exporting the names of LATEST, the session era's newest
revision, which the API is written in) and `methods.py` (each revision's table of methods:
params and result types, kind, direction) into src/mcpkit/types, or DIR, and
docs/spec-deviations.md (or FILE): where schema.json and schema.ts disagree, in every
revision the spec holds. schema.ts is the authority (gen_types_ts.py). With `--check` it
writes nothing and exits 1, showing the diff, when a file differs from what it would
generate; checking the package's own types, it also checks them against the spec's messages
(gen_types_check.py). gen_types_model.py maps the schema to Python shapes and
gen_types_render.py writes them out. The test suite checks the generator on its own fixtures
(tests/test_gen_types.py, tests/types_fixture); `.ci/run` runs `--check` where the spec is at
../shared/spec.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gen_types_model import Model, Struct
from gen_types_render import SCRIPT, docstring, header, public_names, render_module
from gen_types_ts import Disagreement, TsSource, integer_disagreements, widen

__all__ = ["REVISIONS", "generate", "main"]

REVISIONS = ("2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
# The revisions served without a session: each request says its revision in `_meta`
# (2026-07-28 basic/versioning); the others are negotiated by `initialize`.
MODERN_REVISIONS = ("2026-07-28",)
# `mcpkit.types`: the newest revision of the session era, whose types the API is written in.
LATEST = "2025-11-25"
REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "mcpkit" / "types"
DOC = REPO / "docs" / "spec-deviations.md"
DIFF_LINES = 40  # of each stale file's diff, shown by --check
ROLE_UNIONS = {
    "ClientRequest": ("request", "client_to_server"),
    "ServerRequest": ("request", "server_to_client"),
    "ClientNotification": ("notification", "client_to_server"),
    "ServerNotification": ("notification", "server_to_client"),
}
# The requests that schema.ts files under no `<Name>Result`: they are answered with EmptyResult.
EMPTY_RESULT_METHODS = ("logging/setLevel", "ping", "resources/subscribe", "resources/unsubscribe")

# The revision whose types decode each revision's messages (its era's newest): within the
# 2025 era later revisions only add optional fields, methods and shapes, so 2025-11-25's types
# (`mcpkit.types`) decode the older ones. A revision that changes shapes incompatibly names
# itself here, and its table then decodes with its own module.
# 2026-07-28 changes shapes (every result has `resultType`, the handshake is gone): its own.
DECODED_WITH = {rev: rev if rev in MODERN_REVISIONS else LATEST for rev in REVISIONS}

METHODS_DOC = """Which MCP methods each revision has, who sends them, and their params and results.

Each revision has its own table, written out below: `methods_for(revision)` gives it, `METHODS`
is revision {latest}'s. A method missing from a revision's table does not exist there (its
requests are answered -32601), whatever other revisions have. Each table's params and result
types are those its revision is decoded with (`DECODED_WITH`): the types of {latest}
(`mcpkit.types`) for the 2025 era, whose later revisions only add optional fields and new
shapes. `direction` says who sends a method in that revision (both sides for `ping`,
cancellation, progress and the task methods); `task_augmented` marks requests that may be
answered with a `CreateTaskResult` instead (basic/utilities/tasks). `FooRequest` is answered
with `FooResult`; the requests schema.ts files under no result type with `EmptyResult`:
{empty}."""

METHODS_CODE = '''
Direction = Literal["client_to_server", "server_to_client"]
Kind = Literal["request", "notification"]

LATEST_REVISION: Final = "{latest}"
#: The revisions `initialize` negotiates (a session), newest first.
SUPPORTED_REVISIONS: Final = ({revisions})
#: The modern revisions (basic/versioning): no session, each request naming its own in `_meta`.
MODERN_REVISIONS: Final = ({modern})
#: The revision whose types decode each supported revision's messages.
DECODED_WITH: Final[Mapping[str, str]] = MappingProxyType(
    {{
{decoded_with}
    }}
)


class MethodInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One method of one revision: its kind, who sends it, and the types it decodes with."""

    method: str
    kind: Kind
    direction: frozenset[Direction]
    #: What its params decode into: a schema struct (`dict[str, Any]` for a request a
    #: server's own extension adds, whose shape only its handler knows).
    params: Any
    result: type[msgspec.Struct] | type[dict[str, Any]] | None
    task_augmented: bool = False


def _request(
    method: str,
    direction: frozenset[Direction],
    params: type[msgspec.Struct],
    result: type[msgspec.Struct] | type[dict[str, Any]],
    *,
    task_augmented: bool = False,
) -> MethodInfo:
    return MethodInfo(
        method=method,
        kind="request",
        direction=direction,
        params=params,
        result=result,
        task_augmented=task_augmented,
    )


def _notification(
    method: str, direction: frozenset[Direction], params: type[msgspec.Struct]
) -> MethodInfo:
    return MethodInfo(
        method=method, kind="notification", direction=direction, params=params, result=None
    )


def _table(*methods: MethodInfo) -> Mapping[str, MethodInfo]:
    return MappingProxyType({{m.method: m for m in methods}})


_C2S: Final[frozenset[Direction]] = frozenset({{"client_to_server"}})
_S2C: Final[frozenset[Direction]] = frozenset({{"server_to_client"}})
_BOTH: Final[frozenset[Direction]] = _C2S | _S2C
{tables}

_BY_REVISION: Final[Mapping[str, Mapping[str, MethodInfo]]] = MappingProxyType(
    {{
{by_revision}
    }}
)

#: The methods of revision {latest}, by name.
METHODS: Final = _BY_REVISION[LATEST_REVISION]


def methods_for(revision: str) -> Mapping[str, MethodInfo]:
    """The methods of a supported revision, by name; ValueError for any other revision."""
    try:
        return _BY_REVISION[revision]
    except KeyError:
        supported = ", ".join(SUPPORTED_REVISIONS)
        raise ValueError(
            f"unsupported MCP revision {{revision!r}} (supported: {{supported}})"
        ) from None
'''


@dataclass
class Method:
    name: str
    kind: str
    directions: set[str]
    params: str
    result: str | None
    task_augmented: bool


def methods(model: Model) -> dict[str, Method]:
    """Each method of the role unions: its params type and, for requests, its result type."""
    found: dict[str, Method] = {}
    for union_name, (kind, direction) in ROLE_UNIONS.items():
        # (2026-07-28 has no ServerRequest and an empty ClientNotification)
        for ref in model.defs.get(union_name, {}).get("anyOf", []):
            name, schema = model.deref(ref)
            request = model.items[str(name)]
            assert isinstance(request, Struct)
            method = schema["properties"]["method"]["const"]
            params = next(f.type for f in request.fields if f.wire == "params")
            shape = model.items.get(str(params.arg))
            task = isinstance(shape, Struct) and any(f.wire == "task" for f in shape.fields)
            result = result_of(model, str(name), method) if kind == "request" else None
            entry = Method(method, kind, set(), params.render(), result, task)
            entry = found.setdefault(method, entry)
            if entry.kind != kind:
                raise SystemExit(f"{model.revision}: {method} is both request and notification")
            entry.directions.add(direction)
    return found


def result_of(model: Model, request: str, method: str) -> str:
    """FooRequest -> FooResult; the requests of EMPTY_RESULT_METHODS (only) get EmptyResult."""
    name = request.removesuffix("Request") + "Result"
    if (name in model.defs) == (method in EMPTY_RESULT_METHODS):
        raise SystemExit(f"{model.revision}: {method} has result {name}: update the generator")
    return name if name in model.defs else "EmptyResult"


def method_entry(rev: str, name: str, tables: dict[str, dict[str, Method]]) -> str:
    """One line of `rev`'s table: the method as `rev` has it, with the types it decodes with."""
    own = tables[rev][name]
    types = tables[DECODED_WITH[rev]].get(name)
    if types is None or types.kind != own.kind:
        raise SystemExit(
            f"{rev}'s {name} has no {own.kind} in {DECODED_WITH[rev]}, whose types decode {rev}: "
            "give the revision its own types (DECODED_WITH)"
        )
    short = {"client_to_server": "_C2S", "server_to_client": "_S2C"}
    direction = "_BOTH" if len(own.directions) == 2 else short[min(own.directions)]
    alias = types_alias(DECODED_WITH[rev])
    if own.kind == "notification":
        return call("_notification", [f'"{name}"', direction, f"{alias}.{types.params}"])
    args = [f'"{name}"', direction, f"{alias}.{types.params}", f"{alias}.{types.result}"]
    return call("_request", args + (["task_augmented=True"] if own.task_augmented else []))


def call(fn: str, args: list[str], indent: str = "    ", width: int = 100) -> str:
    """`fn(args),` as ruff formats it: on one line if it fits, else its arguments on one
    line of their own, else one argument per line."""
    one = f"{indent}{fn}({', '.join(args)}),"
    if len(one) <= width:
        return one
    inner = f"{indent}    {', '.join(args)}"
    if len(inner) <= width:
        return f"{indent}{fn}(\n{inner}\n{indent}),"
    return "\n".join([f"{indent}{fn}(", *(f"{indent}    {a}," for a in args), f"{indent}),"])


def types_alias(rev: str) -> str:
    return "_t" if rev == LATEST else "_t" + rev.replace("-", "")


def table_name(rev: str) -> str:
    return "_REVISION_" + rev.replace("-", "_")


def render_methods(tables: dict[str, dict[str, Method]]) -> str:
    blocks: list[str] = []
    for rev in REVISIONS:
        decoded = DECODED_WITH[rev]
        lines = [method_entry(rev, name, tables) for name in sorted(tables[rev])]
        blocks += [
            "",
            f"#: Revision {rev}: its {len(lines)} methods, decoded with the types of {decoded}.",
            f"{table_name(rev)}: Final = _table(",
            *lines,
            ")",
        ]
    code = METHODS_CODE.format(
        latest=LATEST,
        revisions=", ".join(f'"{r}"' for r in REVISIONS if r not in MODERN_REVISIONS),
        modern=", ".join(f'"{r}"' for r in MODERN_REVISIONS) + ",",
        decoded_with="\n".join(f'        "{r}": "{DECODED_WITH[r]}",' for r in REVISIONS),
        tables="\n".join(blocks),
        by_revision="\n".join(f'        "{r}": {table_name(r)},' for r in REVISIONS),
    )
    empty = ", ".join(f"`{m}`" for m in EMPTY_RESULT_METHODS)
    names = ["DECODED_WITH", "Direction", "Kind", "LATEST_REVISION", "METHODS", "MethodInfo"]
    names += ["MODERN_REVISIONS", "SUPPORTED_REVISIONS", "methods_for"]
    lines = header(f"the MCP schema, revisions {REVISIONS[-1]} to {REVISIONS[0]}")
    lines += docstring(METHODS_DOC.format(latest=LATEST, empty=empty), "")
    lines += ["", "from __future__ import annotations", "", "from collections.abc import Mapping"]
    lines += ["from types import MappingProxyType", "from typing import Any, Final, Literal", ""]
    lines += ["import msgspec", ""]
    lines += [
        f"from mcpkit.types import {module_name(r)} as {types_alias(r)}"
        for r in sorted(set(DECODED_WITH.values()))
    ]
    lines += ["", "__all__ = [", *(f'    "{n}",' for n in sorted(names)), "]"]
    return "\n".join(lines) + "\n" + code


def render_init(model: Model) -> str:
    public = public_names(model)
    lines = header(f"schema/{LATEST}/schema.json of the MCP specification")
    lines += [
        f'"""The MCP wire types as of revision {LATEST}, which mcpkit uses for every revision.',
        "",
        "Later revisions only add optional fields and new shapes, so these types also decode",
        "the messages of older revisions. `mcpkit.types.methods` maps each method to them.",
        '"""',
        "",
        f"from mcpkit.types.{module_name(LATEST)} import (",
        *(f"    {n}," for n in sorted(public, key=isort_key)),
        ")",
        "",
        "__all__ = [",
        *(f'    "{n}",' for n in public),
        "]",
    ]
    return "\n".join(lines) + "\n"


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's isort order inside one import: CONSTANTS, then Classes, then the rest."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2), name.lower()


def module_name(revision: str) -> str:
    return "_gen_" + revision.replace("-", "_")


DOC_INTRO = """# Where the MCP schema's two forms disagree

Generated by `python {script} <spec>/schema`; do not edit.

Each revision of the MCP schema comes as `schema.ts`, the source, and `schema.json`, generated
from it by typescript-json-schema with `--defaultNumberType integer`: every TypeScript `number`
without a `@TJS-type number` tag became JSON Schema `integer` (the 2026-07-28 changelog,
"Other schema changes", fixed the members it names: `minimum`, `maximum` and `default` of the
elicitation schemas; tagged `@TJS-type number` since 2025-06-18, they agree in these files).
mcpkit takes schema.ts as the authority: each node below is a JSON `number` in mcpkit's types,
`int | float` in Python, so `1.5` is accepted where schema.json says `integer` (an elicitation
answer's value, `ElicitResult.content`, is the one users meet) and a whole number keeps its
form. The exceptions keep `integer` where JSON-RPC 2.0 or JSON Schema, on which the spec
builds, asks for whole numbers; each says why. Paths are schema.json's `$defs` (`properties`
left out). Revisions that mcpkit does not generate types for yet are listed too."""


def read_schema(schema_dir: Path, rev: str) -> tuple[dict[str, Any], list[Disagreement]]:
    """A revision's `$defs`, with the nodes schema.ts declares `number` widened to it."""
    data = json.loads((schema_dir / rev / "schema.json").read_text(encoding="utf-8"))
    defs: dict[str, Any] = data.get("$defs") or data["definitions"]
    ts = TsSource((schema_dir / rev / "schema.ts").read_text(encoding="utf-8"))
    found = integer_disagreements(defs, ts)
    for disagreement, node in found:
        if not disagreement.kept:
            widen(node)
    return defs, [d for d, _ in found]


# SEP-2133 (extensions): `capabilities.extensions` first appears in the 2026-07-28 schema, but
# the SEP has both eras declare extensions there, and the SDKs do (the tasks and skills
# extensions are negotiated in a 2025-11-25 handshake too). Our 2025-11-25 types carry it.
_EXTENSIONS_FROM: Final = {"2025-11-25": "2026-07-28"}
_EXTENDED: Final = ("ClientCapabilities", "ServerCapabilities")


def backport_extensions(defs: dict[str, dict[str, Any]]) -> None:
    """Give `rev`'s capabilities the `extensions` member of the revision that defined it."""
    for rev, source in _EXTENSIONS_FROM.items():
        if rev not in defs or source not in defs:
            continue
        for name in _EXTENDED:
            if name not in defs[rev] or name not in defs[source]:
                continue
            member = dict(defs[source][name]["properties"]["extensions"])
            # (the older schema has no JSONObject to refer to: the same type, spelled out)
            member["additionalProperties"] = {"type": "object", "additionalProperties": {}}
            defs[rev][name]["properties"].setdefault("extensions", member)


def render_deviations(found: dict[str, list[Disagreement]]) -> str:
    lines = [DOC_INTRO.format(script=SCRIPT)]
    for rev in sorted(found, reverse=True):
        lines += ["", f"## {rev}", ""]
        lines += ["| schema.json says `integer` at | schema.ts declares | mcpkit's type |"]
        lines += ["| --- | --- | --- |"]
        lines += [deviation_row(d) for d in found[rev]] or ["| (none) | | |"]
    return "\n".join(lines) + "\n"


def deviation_row(d: Disagreement) -> str:
    ts_type = d.ts_type.replace("|", "\\|")  # a pipe inside a Markdown table cell
    ours = f"integer, kept: {d.kept}" if d.kept else "number (schema.ts)"
    return f"| `{d.path}` | `{ts_type}` | {ours} |"


def revisions_in(schema_dir: Path) -> list[str]:
    """Every revision folder of the spec, generated or not (their disagreements are listed)."""
    return sorted(p.parent.name for p in schema_dir.glob("*/schema.ts"))


def generate(schema_dir: Path, out_dir: Path, doc: Path = DOC) -> dict[Path, str]:
    outputs: dict[Path, str] = {}
    tables: dict[str, dict[str, Method]] = {}
    models: dict[str, Model] = {}
    found: dict[str, list[Disagreement]] = {}
    all_defs: dict[str, dict[str, Any]] = {}
    for rev in sorted({*REVISIONS, *revisions_in(schema_dir)}, reverse=True):
        all_defs[rev], found[rev] = read_schema(schema_dir, rev)
    backport_extensions(all_defs)
    for rev in sorted(REVISIONS, reverse=True):
        defs = all_defs[rev]
        models[rev] = Model(rev, defs)
        outputs[out_dir / f"{module_name(rev)}.py"] = render_module(models[rev])
        tables[rev] = methods(models[rev])
    outputs[out_dir / "__init__.py"] = render_init(models[LATEST])
    outputs[out_dir / "methods.py"] = render_methods(tables)
    outputs[doc] = render_deviations(found)
    return outputs


def schema_folder(spec: Path) -> Path:
    """The folder of `<revision>/schema.json`: SPEC_DIR's `schema/`, or SPEC_DIR itself."""
    return spec / "schema" if (spec / "schema").is_dir() else spec


def show_stale(path: Path, text: str) -> None:
    """Say that `path` is stale, with the start of its diff against what would be generated."""
    old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    diff = list(difflib.unified_diff(old, text.splitlines(), str(path), "generated", lineterm=""))
    print(f"{path}: stale; run python {SCRIPT} SPEC_DIR to rewrite it", file=sys.stderr)
    for line in diff[:DIFF_LINES]:
        print("    " + line, file=sys.stderr)
    if len(diff) > DIFF_LINES:
        print(f"    ... {len(diff) - DIFF_LINES} more diff lines", file=sys.stderr)


def check_spec(schema_dir: Path) -> int:
    """The committed types against the spec's own messages (gen_types_check.py)."""
    from gen_types_check import check_against_spec  # imports mcpkit, so only when checking

    problems = check_against_spec(schema_dir, {r: read_schema(schema_dir, r)[0] for r in REVISIONS})
    for problem in problems:
        print(f"mcpkit.types: {problem}", file=sys.stderr)
    return len(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "spec_dir", type=Path, help="the spec (holding schema/<revision>/) or its schema folder"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if an output is stale"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where to write the modules")
    parser.add_argument("--doc", type=Path, default=DOC, help="where to list the disagreements")
    args = parser.parse_args(argv)
    schema_dir = schema_folder(args.spec_dir)
    stale = 0
    for path, text in generate(schema_dir, args.out, args.doc).items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale += 1
        if args.check:
            show_stale(path, text)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"{path}: written", file=sys.stderr)
    if args.check and args.out.resolve() == OUT_DIR:
        stale += check_spec(schema_dir)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
