"""`mcpkit inspect`: a server's whole surface, sorted and free of anything volatile, so two
runs are byte-identical (diffable in CI) in both formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _verbs import REPO, SERVER, cli

S = str(SERVER)


def test_json_has_the_whole_surface_sorted() -> None:
    ran = cli("inspect", S, "--format", "json")
    assert ran.code == 0, ran.err
    found = json.loads(ran.out)
    assert found["serverInfo"] == {"name": "verbs-test", "version": "1.2.3"}
    assert found["protocolVersion"] == "2026-07-28"  # (auto: the server offers it)
    assert found["instructions"] == "A server for the CLI tests."
    # 2026-07-28: tasks are the extension io.modelcontextprotocol/tasks, not a capability
    assert set(found["capabilities"]) == {"logging", "prompts", "resources", "extensions", "tools"}
    assert "io.modelcontextprotocol/tasks" in found["capabilities"]["extensions"]
    names = [tool["name"] for tool in found["tools"]]
    assert names == sorted(names)
    add = found["tools"][0]
    assert add["inputSchema"]["properties"] == {"a": {"type": "integer"}, "b": {"type": "integer"}}
    assert "outputSchema" in add
    report = next(tool for tool in found["tools"] if tool["name"] == "report")
    assert report["execution"] == {"taskSupport": "required"}
    assert found["resources"][0]["uri"] == "memo://hello"
    assert found["resourceTemplates"][0]["uriTemplate"] == "notes://{name}"
    assert found["prompts"][0]["name"] == "greet"
    assert cli("inspect", S, "--json").out == ran.out  # --json is --format json


def test_two_runs_are_byte_identical_in_both_formats() -> None:
    for fmt in ("json", "markdown"):
        first, second = cli("inspect", S, "--format", fmt), cli("inspect", S, "--format", fmt)
        assert first.code == second.code == 0
        assert first.out == second.out


def test_markdown_has_a_section_per_kind_and_each_schema() -> None:
    out = cli("inspect", S).out
    assert out.startswith("# verbs-test 1.2.3\n\n- name: `verbs-test`\n")
    for heading in (
        "## Instructions",
        "## Tools",
        "### `add`",
        "## Resources",
        "### `memo://hello`",
        "## Resource templates",
        "## Prompts",
        "### `greet`",
    ):
        assert f"\n{heading}\n" in out
    assert '  ```json\n  {\n    "additionalProperties": false,' in out
    assert "\n\n\n" not in out


def test_inspect_of_a_bad_target_exits_3() -> None:
    ran = cli("inspect", "missing_server.py")
    assert (ran.code, ran.out) == (3, "")


GATED = str(REPO / "tests" / "cli" / "servers" / "gated_server.py")


@pytest.mark.parametrize("verb", ["list", "inspect"])
def test_list_and_inspect_declare_what_a_client_can_answer(verb: str) -> None:
    # A server may offer tools only to clients that can sample, elicit or give roots (the
    # reference server `everything` does): the command line shows them all, as `call` sees.
    ran = cli(verb, GATED, *(["--json"] if verb == "list" else ["--format", "json"]))
    assert ran.code == 0, ran.err
    tools = json.loads(ran.out)["tools"]
    assert sorted(t["name"] for t in tools) == ["confirm", "plain", "summarize", "where"]


def test_call_reaches_a_tool_offered_to_capable_clients_only() -> None:
    ran = cli("call", GATED, "summarize", "--no-input")
    assert ran.code == 0, ran.err
    assert ran.out.strip() == "summarize"


def test_markdown_gives_a_title_and_other_text_as_text(tmp_path: Path) -> None:
    (tmp_path / "titled.py").write_text(
        "from mcpkit import Server\nserver = Server('titled')\n"
        "@server.tool(title='Add Two Numbers')\ndef add(a: int, b: int) -> int:\n"
        "    return a + b\n"
    )
    out = cli("inspect", str(tmp_path / "titled.py")).out
    assert "\n- title: Add Two Numbers\n" in out
    assert '"Add Two Numbers"' not in out  # not a JSON code block
    mime = cli("inspect", S).out
    assert "\n- mimeType: text/plain\n" in mime


def test_inspect_web_of_a_file_that_does_not_exist_refuses_at_once() -> None:
    """No inspector is started for a target no page could ever connect to (the bounded
    run of `cli` would time out if one were)."""
    ran = cli("inspect", "nosuch.py", "--web", "--no-browser")
    assert ran.code == 3, ran.err
    (line,) = ran.err.splitlines()
    assert line.startswith(f"error: nosuch.py does not exist (relative to {REPO}); "), line
    assert "mcpkit inspector:" not in ran.err
