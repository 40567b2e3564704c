"""The generated wire types: current, decodable for every method in every revision, exact."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from functools import cache
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


def _find_spec_dir() -> Path:
    """The spec's schema folder: $MCPKIT_SPEC_DIR, else `shared/spec/schema` beside the
    repository or beside one of its parents (the workspace keeps the spec outside the repo)."""
    if "MCPKIT_SPEC_DIR" in os.environ:
        return Path(os.environ["MCPKIT_SPEC_DIR"])
    for parent in REPO.parents:
        candidate = parent / "shared" / "spec" / "schema"
        if candidate.is_dir():
            return candidate
    raise RuntimeError(
        "the MCP spec's schemas were not found: set MCPKIT_SPEC_DIR to the "
        "folder holding <revision>/schema.json"
    )


SPEC_DIR = _find_spec_dir()
ROLE_UNIONS = ("ClientRequest", "ServerRequest", "ClientNotification", "ServerNotification")
CHOICES = range(8)  # anyOf alternative picked by a sample; 8 covers the widest union


@cache
def schema_defs(revision: str) -> dict[str, Any]:
    data = json.loads((SPEC_DIR / revision / "schema.json").read_text(encoding="utf-8"))
    defs: dict[str, Any] = data.get("$defs") or data["definitions"]
    return defs


def revision_module(revision: str) -> ModuleType:
    return importlib.import_module("mcpkit.types._gen_" + revision.replace("-", "_"))


def sample(schema: dict[str, Any], defs: dict[str, Any], choice: int, full: bool) -> Any:
    """A JSON value valid for `schema`: only required members, or every one when `full`.

    `choice` picks the alternative of each anyOf, so samples over CHOICES reach every
    union member that a field allows.
    """
    if "$ref" in schema:
        return sample(defs[schema["$ref"].rsplit("/", 1)[1]], defs, choice, full)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(sample(part, defs, choice, full))
        return merged
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return sample(alternatives[choice % len(alternatives)], defs, choice, full)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][choice % len(schema["enum"])]
    kind: Any = schema.get("type")
    if isinstance(kind, list):
        kind = kind[choice % len(kind)]
    if kind == "object" or "properties" in schema:
        return sample_object(schema, defs, choice, full)
    if kind == "array":
        items = schema.get("items", {})
        return [sample(items, defs, choice, full)] if full or schema.get("minItems") else []
    return sample_scalar(kind, schema.get("format"))


def sample_object(schema: dict[str, Any], defs: dict[str, Any], choice: int, full: bool) -> Any:
    props = schema.get("properties", {})
    required = schema.get("required", [])
    out = {k: sample(v, defs, choice, full) for k, v in props.items() if full or k in required}
    extra = schema.get("additionalProperties")
    if full and not props and isinstance(extra, dict) and extra:
        out["extra"] = sample(extra, defs, choice, full)
    elif full and extra is not False:
        out["unknownField"] = {"kept": "nowhere"}  # unknown members must be ignored
    return out


def sample_scalar(kind: str | None, fmt: str | None) -> Any:
    if kind == "string":
        return {"uri": "https://example.com/a", "byte": "aGk=", "uri-template": "x://{id}"}.get(
            fmt or "", "text"
        )
    return {"integer": 1, "number": 0.5, "boolean": True, "null": None}.get(
        kind or "", {"any": [1, "json"]}
    )


def role_members(revision: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(role union, definition name, definition) of every request and notification."""
    defs = schema_defs(revision)
    return [
        (role, ref["$ref"].rsplit("/", 1)[1], defs[ref["$ref"].rsplit("/", 1)[1]])
        for role in ROLE_UNIONS
        for ref in defs[role]["anyOf"]
    ]


def result_name(revision: str, request: str) -> str:
    name = request.removesuffix("Request") + "Result"
    return name if name in schema_defs(revision) else "EmptyResult"


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    script = REPO / "scripts" / "gen_types.py"
    return subprocess.run(
        [sys.executable, str(script), str(SPEC_DIR), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def decode(data: Any, tp: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=tp)


# ----------------------------------------------------------------------------- freshness


def test_generated_files_are_current() -> None:
    proc = run_generator("--check")
    assert proc.returncode == 0, proc.stderr


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
    assert set(schema_defs(LATEST_REVISION)) <= set(t.__all__)  # every $defs name
    assert structs <= set(t.__all__)  # and every struct made for inline objects
    assert all(getattr(t, n) is getattr(gen, n) for n in t.__all__)


# ----------------------------------------------------------------------------- every method


@pytest.mark.parametrize("revision", SUPPORTED_REVISIONS)
def test_every_method_of_the_revision_is_in_the_table(revision: str) -> None:
    table = methods_for(revision)
    members = role_members(revision)
    methods = {d["properties"]["method"]["const"] for _, _, d in members}
    assert set(table) == methods
    for role, name, definition in members:
        info = table[definition["properties"]["method"]["const"]]
        kind = "request" if role.endswith("Request") else "notification"
        direction = "client_to_server" if role.startswith("Client") else "server_to_client"
        assert info.kind == kind and direction in info.direction and revision in info.revisions
        if kind == "request":
            assert info.result is getattr(t, result_name(revision, name))
        else:
            assert info.result is None


@pytest.mark.parametrize("revision", SUPPORTED_REVISIONS)
def test_every_envelope_and_params_decode(revision: str) -> None:
    """Samples of the revision's own messages decode with its types and with mcpkit.types."""
    mod, defs, table = revision_module(revision), schema_defs(revision), methods_for(revision)
    for role, name, definition in role_members(revision):
        info = table[definition["properties"]["method"]["const"]]
        for choice in CHOICES:
            for full in (False, True):
                message = sample(definition, defs, choice, full)
                assert type(decode(message, getattr(mod, role))) is getattr(mod, name)
                params = decode(message.get("params", {}), info.params)
                assert isinstance(params, info.params)


@pytest.mark.parametrize("revision", SUPPORTED_REVISIONS)
def test_every_result_decodes(revision: str) -> None:
    mod, defs, table = revision_module(revision), schema_defs(revision), methods_for(revision)
    for _, name, definition in role_members(revision):
        info = table[definition["properties"]["method"]["const"]]
        if info.result is None:
            continue
        result = result_name(revision, name)
        schema = {"$ref": f"#/x/{'Result' if result == 'EmptyResult' else result}"}
        for choice in CHOICES:
            for full in (False, True):
                data = sample(schema, defs, choice, full)
                # decode() raises on any mismatch; every result is a JSON object again.
                for tp in (info.result, getattr(mod, result)):
                    assert isinstance(msgspec.to_builtins(decode(data, tp)), dict)


def test_results_match_schema_ts_categories() -> None:
    """Each result type is the one schema.ts files under the method; none means EmptyResult."""
    source = (SPEC_DIR / LATEST_REVISION / "schema.ts").read_text(encoding="utf-8")
    pattern = r"@category `([^`]+)`\s*\*/\s*export (?:interface|type) (\w+Result)\b"
    results = {name: method for method, name in re.findall(pattern, source)}
    for info in METHODS.values():
        if info.kind == "notification":
            continue
        filed = [name for name, method in results.items() if method == info.method]
        expected = "EmptyResult" if not filed else filed[0]
        assert getattr(t, expected) is info.result, info.method
        assert len(filed) <= 1


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
    assert "tasks/get" not in methods_for("2025-06-18")
    assert "elicitation/create" not in methods_for("2025-03-26")
    assert METHODS["notifications/initialized"].result is None
    assert all(isinstance(m, MethodInfo) for m in METHODS.values())
    with pytest.raises(ValueError, match="2099-01-01"):
        methods_for("2099-01-01")


def test_check_flag_reports_stale_output(tmp_path: Path) -> None:
    out = str(tmp_path)
    assert run_generator("--check", "--out", out).returncode == 1  # nothing generated yet
    assert run_generator("--out", out).returncode == 0
    assert run_generator("--check", "--out", out).returncode == 0
    methods = tmp_path / "methods.py"
    methods.write_text(methods.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    stale = run_generator("--check", "--out", out)
    assert stale.returncode == 1 and "methods.py: stale" in stale.stderr


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
