"""The committed wire types: their method table and their shapes on the wire (the generator
itself: test_gen_types.py)."""

from __future__ import annotations

import importlib
import json
import typing
from types import ModuleType
from typing import Any, cast

import msgspec
import pytest

import mcpkit.types as t
from mcpkit.types import _gen_2025_11_25
from mcpkit.types.methods import (
    DECODED_WITH,
    LATEST_REVISION,
    METHODS,
    SUPPORTED_REVISIONS,
    MethodInfo,
    methods_for,
)

ROLE_UNIONS = ("ClientRequest", "ServerRequest", "ClientNotification", "ServerNotification")


def revision_module(revision: str) -> ModuleType:
    return importlib.import_module("mcpkit.types._gen_" + revision.replace("-", "_"))


def decode(data: Any, tp: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(data), type=tp)


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
        assert info.kind == kind and direction in info.direction
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
    have_elicitation = [r for r in SUPPORTED_REVISIONS if "elicitation/create" in methods_for(r)]
    assert have_elicitation == ["2025-11-25", "2025-06-18"]
    # Each revision's own facts: tasks came in 2025-11-25, so nothing is task-augmented before.
    assert not any(m.task_augmented for m in methods_for("2025-06-18").values())
    assert DECODED_WITH["2024-11-05"] == LATEST_REVISION  # the 2025 era decodes with one set
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


def test_meta_of_reads_a_dict_a_struct_and_a_struct_without_meta() -> None:
    from mcpkit.protocol.jsonrpc import meta_of

    meta = {"progressToken": 7}
    assert meta_of({"_meta": meta, "name": "echo"}) == meta
    assert meta_of({"name": "echo"}) is None
    assert meta_of(t.CallToolRequestParams(name="echo", meta=meta)) == meta
    assert meta_of(t.CallToolRequestParams(name="echo")) is None
    # A params type the schema gives no `_meta`: none, not an AttributeError.
    assert "meta" not in t.GetTaskRequestParams.__struct_fields__
    assert meta_of(t.GetTaskRequestParams(task_id="t1")) is None
    # Neither a dict nor a struct; a `_meta` that is no object.
    assert meta_of(None) is None and meta_of([meta]) is None
    assert meta_of({"_meta": "text"}) is None
