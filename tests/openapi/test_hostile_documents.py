"""Documents small on disk that expand past any memory once read are refused, or served with
their shared schemas kept once per tool: a YAML alias bomb, a `$ref` fan-out, and a 200,000
value `enum` shared by every operation. The conversion counts every node it writes, each
inlined copy again, and stops at `max_schema_nodes`.

The expanding cases run in a subprocess held to a time and an address-space limit: code
that expands them (as mcpkit did) fails the test instead of hanging the suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from _hostile import alias_bomb_yaml, ref_fan_out, shared_enum

import mcpkit
from mcpkit import Server
from mcpkit.openapi import OpenApiSpecError, build_routes, read_spec
from mcpkit.testing import connected

_SRC = Path(mcpkit.__file__).parent.parent
_HERE = Path(__file__).parent

# The child reads the document named on its command line, builds the server and lists its
# tools, and prints what happened as JSON.
_CHILD = """
import asyncio, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
import httpx
import jsonschema_rs
from _hostile import alias_bomb_yaml, ref_fan_out, shared_enum
from mcpkit import Server
from mcpkit.openapi import OpenApiSpecError
from mcpkit.testing import connected

async def main(spec):
    try:
        server = Server.from_openapi(spec, client=httpx.AsyncClient(base_url="http://api.test"))
    except OpenApiSpecError as exc:
        return {"refused": str(exc)}
    async with connected(server) as client:
        tools = await client.list_tools()
    return {"tools": [{"input": t.input_schema, "output": t.output_schema} for t in tools]}

print(json.dumps(asyncio.run(main(eval(sys.argv[1])))))
"""


def _served(spec: str) -> dict[str, Any]:
    """What `Server.from_openapi(<spec>)` came to in a child of bounded time and memory."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, spec],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=_HERE,
            env={"PYTHONPATH": f"{_SRC}:{_HERE}", "PATH": ""},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {spec} did not end within 30 s")
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_a_yaml_alias_bomb_is_refused_as_it_is_read(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb_yaml())  # 9 ** 9 properties in about 1.3 kB
    assert bomb.stat().st_size < 2000
    found = _served(repr(str(bomb)))
    assert "the YAML alias *l0 on line 5 is refused" in found["refused"]


def test_a_document_with_no_alias_still_reads_as_yaml(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    text = alias_bomb_yaml(levels=0).replace("*l0", "{type: string}")  # an anchor, unused
    plain.write_text(text)
    assert read_spec(plain)["x-levels"] == {"l0": {"type": "string"}}


def test_a_ref_fan_out_keeps_the_shared_schema_once_per_tool() -> None:
    # 20 operations x 400 uses of a 2,000-property schema: 16 million nodes inlined
    tools = _served("ref_fan_out()")["tools"]
    assert len(tools) == 20
    for tool in tools:
        schema = tool["input"]
        assert set(schema["$defs"]) == {"Leaf"}
        assert schema["properties"]["x0"] == {"$ref": "#/$defs/Leaf"}
        assert len(schema["$defs"]["Leaf"]["properties"]) == 2000
        assert set(tool["output"]["$defs"]) == {"Leaf"}
    listed = len(json.dumps(tools))
    assert listed < 20 * 2 * 2 * len(json.dumps(ref_fan_out(operations=1)))


def test_a_big_shared_enum_is_sent_once_per_schema_not_once_per_use() -> None:
    document_bytes = len(json.dumps(shared_enum(2)))  # 2.4 MB, the enum used 3 times a side
    tools = _served("shared_enum(2)")["tools"]
    listed = json.dumps(tools)
    assert listed.count('"c0199999"') == 4  # in each tool's input and output schema
    assert len(listed) < 5 * document_bytes
    first = tools[0]["input"]
    assert first["properties"]["q"] == {"$ref": "#/$defs/Code"}
    assert first["properties"]["others"]["items"] == {"$ref": "#/$defs/Code"}


def test_a_big_enum_shared_by_many_operations_is_refused_at_the_budget() -> None:
    found = _served("shared_enum(40)")  # 40 tools x 2 copies x 200,000 values
    assert "max_schema_nodes, default 1000000" in found["refused"]


def test_the_budget_is_a_setting_checked_as_the_schemas_are_written() -> None:
    client = httpx.AsyncClient()
    # 678 nodes with the 101-node Leaf kept once a side; inlined, each copy counts again
    fan = ref_fan_out(operations=3, fan=10, leaf_properties=100)
    routes = build_routes(fan, client=client, max_schema_nodes=700)
    assert len(routes) == 3
    with pytest.raises(OpenApiSpecError, match=r"more than 600 nodes .*max_schema_nodes"):
        build_routes(fan, client=client, max_schema_nodes=600)
    with pytest.raises(ValueError, match="max_schema_nodes must be >= 1"):
        Server.from_openapi(fan, client=client, max_schema_nodes=0)


def test_ten_thousand_small_operations_pass_the_default_budget() -> None:
    item = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    paths = {
        f"/items{n}/{{id}}": {
            "get": {
                "operationId": f"get{n}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/$defs/Item"}}},
                    }
                },
            }
        }
        for n in range(10_000)
    }
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    document["$defs"] = {"Item": item}
    routes = build_routes(document, client=httpx.AsyncClient())
    assert len(routes) == 10_000
    assert routes[-1].output_schema == item


async def test_arguments_are_validated_against_a_schema_kept_under_defs() -> None:
    document = shared_enum(1, values=100)
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"code": "c0000001", "others": []})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://api.test")
    server = Server.from_openapi(document, client=client)
    async with connected(server) as mcp:
        (tool,) = await mcp.list_tools()
        assert tool.input_schema["properties"]["code"] == {"$ref": "#/$defs/Code"}
        bad = await mcp.call_tool("op0", {"q": "c0000001", "code": "nope"})
        assert bad.is_error and calls == []
        good = await mcp.call_tool("op0", {"q": "c0000099", "code": "c0000000"})
    assert not good.is_error
    assert good.structured_content == {"code": "c0000001", "others": []}
    assert calls[0].url.params["q"] == "c0000099"


def test_a_document_file_past_its_bound_is_refused_unread_naming_the_setting(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(shared_enum(1, values=10)))
    size = spec.stat().st_size
    assert read_spec(spec, max_document_bytes=size)["openapi"] == "3.1.0"
    with pytest.raises(OpenApiSpecError, match=r"larger than \d+ bytes \(max_document_bytes"):
        read_spec(spec, max_document_bytes=size - 1)
    with pytest.raises(OpenApiSpecError, match=r"default 33554432"):
        read_spec("/dev/zero")  # no end, and no size to ask for


def test_from_fastapi_takes_the_budget_too() -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    assert Server.from_fastapi(app, max_schema_nodes=3).name == "FastAPI"
    with pytest.raises(OpenApiSpecError, match="more than 2 nodes"):
        Server.from_fastapi(app, max_schema_nodes=2)


def test_a_big_recursive_schema_is_kept_once_and_validates() -> None:
    node: dict[str, Any] = {
        "type": "object",
        "properties": {f"f{i}": {"type": "string"} for i in range(100)},
    }
    node["properties"]["children"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Node"},
    }
    document = shared_enum(1, values=1)
    document["components"]["schemas"]["Node"] = node
    document["components"]["schemas"]["Wrapper"]["properties"]["tree"] = {
        "$ref": "#/components/schemas/Node"
    }
    (route,) = build_routes(document, client=httpx.AsyncClient())
    schema = route.input_schema
    assert schema["properties"]["tree"] == {"$ref": "#/$defs/Node"}
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    validator = jsonschema_rs.validator_for(schema)
    good = {"code": "c0000000", "tree": {"f1": "a", "children": [{"children": []}]}}
    assert validator.is_valid(good)
    assert not validator.is_valid({"tree": {"children": [{"f1": 5}]}})
