"""The wire types: the generator, on a fixture of its own (tests/types_fixture), and the
committed types: their method table, their shapes on the wire."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import msgspec
import pytest

import mcpkit.types as t
from mcpkit.types import _gen_2025_11_25
from mcpkit.types.methods import (
    LATEST_REVISION,
    METHODS,
    SUPPORTED_REVISIONS,
    MethodInfo,
    methods_for,
)

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "types_fixture"  # hand-written, not a spec copy
FIXTURE_REVISIONS = (*SUPPORTED_REVISIONS, "2099-01-01")  # the last one is listed, not generated
ROLE_UNIONS = ("ClientRequest", "ServerRequest", "ClientNotification", "ServerNotification")


def revision_module(revision: str) -> ModuleType:
    return importlib.import_module("mcpkit.types._gen_" + revision.replace("-", "_"))


def decode(data: Any, tp: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=tp)


# ----------------------------------------------------------------------------- the generator
# Checking the committed types against the spec is `scripts/gen_types.py --check SPEC_DIR`
# (.ci/run runs it where ../shared/spec exists); here the generator runs on a small fixture.


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


# ----------------------------------------------------------------------------- the committed types


def test_package_reexports_every_latest_name_sorted() -> None:
    gen = _gen_2025_11_25
    structs = {
        name
        for name, value in vars(gen).items()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == gen.__name__
        and not name.startswith("_")
    }
    assert t.__all__ == sorted(t.__all__) == gen.__all__
    assert structs <= set(t.__all__)  # every struct, those made for inline objects too
    assert all(getattr(t, n) is getattr(gen, n) for n in t.__all__)


def role_members(revision: str) -> list[tuple[str, type[Any]]]:
    """(role union, struct) of every request and notification of a revision's module."""
    mod = revision_module(revision)
    return [(role, tp) for role in ROLE_UNIONS for tp in typing.get_args(getattr(mod, role))]


@pytest.mark.parametrize("revision", SUPPORTED_REVISIONS)
def test_every_method_of_the_revision_is_in_the_table(revision: str) -> None:
    """The method table and each revision module's role unions agree (the spec's own
    messages are `gen_types.py --check`'s job)."""
    table = methods_for(revision)
    members = role_members(revision)
    assert set(table) == {tp.__struct_config__.tag for _, tp in members}
    for role, tp in members:
        info = table[str(tp.__struct_config__.tag)]
        kind = "request" if role.endswith("Request") else "notification"
        direction = "client_to_server" if role.startswith("Client") else "server_to_client"
        assert info.kind == kind and direction in info.direction and revision in info.revisions
        params = typing.get_type_hints(tp)["params"]
        own = [a for a in typing.get_args(params) or (params,) if a is not type(None)]
        if revision == LATEST_REVISION:  # older revisions name their params otherwise
            assert own == [info.params], tp
        if kind == "request":
            assert info.result is not None
        else:
            assert info.result is None


def test_elicitation_answers_take_any_number() -> None:
    """schema.ts says `number` where schema.json says `integer` (docs/spec-deviations.md)."""
    for revision in ("2025-11-25", "2025-06-18"):
        tp = revision_module(revision).ElicitResult
        result = decode({"action": "accept", "content": {"a": 1.5, "b": 3, "c": "x"}}, tp)
        assert result.content == {"a": 1.5, "b": 3, "c": "x"}
        assert type(result.content["b"]) is int
    with pytest.raises(msgspec.ValidationError, match="Expected `int"):
        decode({"code": 1.5, "message": "m"}, t.Error)


def test_method_table_facts() -> None:
    assert LATEST_REVISION == SUPPORTED_REVISIONS[0] == "2025-11-25"
    assert METHODS is methods_for(LATEST_REVISION)
    assert METHODS["ping"].direction == {"client_to_server", "server_to_client"}
    assert METHODS["ping"].result is t.EmptyResult
    assert METHODS["tools/call"].params is t.CallToolRequestParams
    assert METHODS["tools/call"].result is t.CallToolResult
    assert METHODS["tools/call"].task_augmented and not METHODS["tools/list"].task_augmented
    assert METHODS["tools/list"].params is t.PaginatedRequestParams
    assert METHODS["elicitation/create"].revisions == {"2025-11-25", "2025-06-18"}
    assert METHODS["elicitation/create"].result is t.ElicitResult
    assert METHODS["resources/subscribe"].result is t.EmptyResult
    assert "tasks/get" not in methods_for("2025-06-18")
    assert "elicitation/create" not in methods_for("2025-03-26")
    assert METHODS["notifications/initialized"].result is None
    assert all(isinstance(m, MethodInfo) for m in METHODS.values())
    with pytest.raises(ValueError, match="2099-01-01"):
        methods_for("2099-01-01")


# ----------------------------------------------------------------------------- wire shapes


def test_content_blocks_decode_by_type() -> None:
    blocks = [
        {"type": "text", "text": "hi"},
        {"type": "image", "data": "aGk=", "mimeType": "image/png"},
        {"type": "audio", "data": "aGk=", "mimeType": "audio/wav"},
        {"type": "resource_link", "uri": "file:///a", "name": "a"},
        {"type": "resource", "resource": {"uri": "file:///a", "text": "x"}},
    ]
    decoded = decode(blocks, list[t.ContentBlock])
    kinds = [t.TextContent, t.ImageContent, t.AudioContent, t.ResourceLink, t.EmbeddedResource]
    assert [type(b) for b in decoded] == kinds
    assert msgspec.to_builtins(decoded) == blocks
    tool_use = {"type": "tool_use", "id": "c1", "name": "f", "input": {"a": 1}}
    assert isinstance(decode(tool_use, t.SamplingMessageContentBlock), t.ToolUseContent)


def test_sampling_content_is_one_block_or_a_list() -> None:
    one = {"role": "assistant", "model": "m", "content": {"type": "text", "text": "a"}}
    many = {
        **one,
        "content": [
            {"type": "text", "text": "a"},
            {"type": "tool_result", "toolUseId": "c1", "content": [{"type": "text", "text": "r"}]},
        ],
    }
    assert isinstance(decode(one, t.CreateMessageResult).content, t.TextContent)
    content = decode(many, t.CreateMessageResult).content
    assert isinstance(content, list) and isinstance(content[1], t.ToolResultContent)
    assert isinstance(decode(many, t.SamplingMessage).content, list)


def test_tag_is_implicit_and_optionals_are_not_emitted() -> None:
    assert msgspec.json.encode(t.TextContent(text="x")) == b'{"type":"text","text":"x"}'
    tool = t.Tool(name="t", input_schema={"type": "object"})
    assert json.loads(msgspec.json.encode(tool)) == {"name": "t", "inputSchema": {"type": "object"}}
    assert json.loads(msgspec.json.encode(t.PromptReference(name="p"))) == {
        "type": "ref/prompt",
        "name": "p",
    }
    task = t.Task(task_id="1", status="working", created_at="a", last_updated_at="b", ttl=None)
    assert json.loads(msgspec.json.encode(task))["ttl"] is None  # required, nullable


def test_unknown_fields_are_ignored_and_meta_is_kept() -> None:
    meta = {"progressToken": 7, "io.example/trace": {"id": [1, 2]}}
    data = {"_meta": meta, "content": [], "isError": False, "future": {"x": 1}}
    result = decode(data, t.CallToolResult)
    assert result.meta == meta and result.is_error is False
    assert json.loads(msgspec.json.encode(result)) == {
        "_meta": meta,
        "content": [],
        "isError": False,
    }
    params = decode({"name": "f", "_meta": meta, "arguments": {"a": None}}, t.CallToolRequestParams)
    assert params.meta == meta and params.arguments == {"a": None}


def test_wrong_shapes_name_the_path() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.content\[0\]\.text"):
        decode({"content": [{"type": "text", "text": 5}]}, t.CallToolResult)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.content\[0\]\.type"):
        decode({"content": [{"type": "video"}]}, t.CallToolResult)
    with pytest.raises(msgspec.ValidationError, match=r"`name`"):
        decode({}, t.CallToolRequestParams)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.capabilities\.roots"):
        decode(
            {
                "protocolVersion": "1",
                "clientInfo": {"name": "c", "version": "1"},
                "capabilities": {"roots": True},
            },
            t.InitializeRequestParams,
        )


def test_resource_contents_become_text_or_blob() -> None:
    data = {"contents": [{"uri": "a://1", "text": "t"}, {"uri": "a://2", "blob": "aGk="}]}
    contents = decode(data, t.ReadResourceResult).contents
    assert [type(c) for c in contents] == [t.TextResourceContents, t.BlobResourceContents]
    embedded = decode(
        {"type": "resource", "resource": {"uri": "a://1", "text": "t"}}, t.EmbeddedResource
    )
    assert embedded.resource == t.TextResourceContents(uri="a://1", text="t")
    with pytest.raises(msgspec.ValidationError, match=r"\$\.contents\[0\]"):
        decode({"contents": [{"uri": "a://1"}]}, t.ReadResourceResult)
    with pytest.raises(TypeError, match="TextResourceContents"):
        t.EmbeddedResource(resource=cast(Any, "not contents"))
    built = t.ReadResourceResult(contents=[t.BlobResourceContents(uri="a://2", blob="aGk=")])
    assert msgspec.json.encode(built) == b'{"contents":[{"blob":"aGk=","uri":"a://2"}]}'


def test_elicit_params_cover_form_and_url_modes() -> None:
    form = decode(
        {"message": "m", "requestedSchema": {"type": "object", "properties": {}}},
        t.ElicitRequestParams,
    )
    assert form.mode == "form" and form.requested_schema == {"type": "object", "properties": {}}
    assert b"mode" not in msgspec.json.encode(form)  # absent mode means form (2025-06-18 peers)
    url = decode(
        {"mode": "url", "message": "m", "url": "https://x", "elicitationId": "e"},
        t.ElicitRequestParams,
    )
    assert (url.mode, url.url, url.elicitation_id) == ("url", "https://x", "e")
    with pytest.raises(msgspec.ValidationError, match="ElicitRequestURLParams"):
        decode({"mode": "url", "message": "m"}, t.ElicitRequestParams)
    with pytest.raises(msgspec.ValidationError, match="requestedSchema"):
        decode({"message": "m"}, t.ElicitRequestParams)
    assert isinstance(
        t.ElicitRequestURLParams(message="m", url="u", elicitation_id="e"), t.ElicitRequestURLParams
    )


def test_primitive_schema_definitions_decode_each_variant() -> None:
    variants = [
        {"type": "string", "format": "email"},
        {"type": "integer", "minimum": 1},
        {"type": "boolean", "default": True},
        {"type": "string", "enum": ["a", "b"]},
        {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
        {"type": "array", "items": {"type": "string", "enum": ["a"]}},
        {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},
    ]
    for variant in variants:
        decoded = decode(variant, t.PrimitiveSchemaDefinition)
        assert msgspec.to_builtins(decoded) == variant
    with pytest.raises(msgspec.ValidationError, match="UntitledMultiSelectEnumSchema"):
        decode({"type": "array"}, t.PrimitiveSchemaDefinition)
    assert isinstance(decode(variants[0], t.StringSchema), t.StringSchema)


def test_role_unions_decode_by_method() -> None:
    message = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "f"}}
    request = decode(message, t.ClientRequest)
    assert isinstance(request, t.CallToolRequest) and request.params.name == "f"
    note = decode({"jsonrpc": "2.0", "method": "notifications/initialized"}, t.ClientNotification)
    assert isinstance(note, t.InitializedNotification)
    envelope = decode(
        {"jsonrpc": "2.0", "id": "a", "error": {"code": -1, "message": "m"}}, t.JSONRPCMessage
    )
    assert envelope.error == t.Error(code=-1, message="m") and envelope.id == "a"
