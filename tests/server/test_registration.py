"""Registration mistakes are reported when they are made, in the user's terms."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server import RegistrationWarning


def test_a_misspelt_tool_option_names_the_decorator_and_the_fix() -> None:
    server = Server("s")
    with pytest.raises(TypeError) as info:

        @server.tool(descripton="adds")  # type: ignore[call-overload,untyped-decorator]
        def add(a: int) -> int:
            return a

    message = str(info.value)
    assert "server.tool()" in message and "'descripton'" in message
    assert "did you mean 'description'?" in message
    assert "make_tool" not in message


@pytest.mark.parametrize(
    "register",
    [
        lambda s, f: s.add_tool(f, titel="x"),
        lambda s, f: s.prompt(titel="x"),
        lambda s, f: s.add_prompt(f, titel="x"),
        lambda s, f: s.add_resource(f, "a://b", titel="x"),
        lambda s, f: s.resource("a://b", titel="x"),
    ],
)
def test_misspelt_options_everywhere_say_what_was_meant(register: Any) -> None:
    def fn() -> str:
        return "x"

    with pytest.raises(TypeError, match=r"unknown option 'titel'; did you mean 'title'\?"):
        register(Server("s"), fn)


def test_a_misspelt_completion_option_says_what_was_meant() -> None:
    with pytest.raises(
        TypeError,
        match=r"server.completion\(\) got an unknown option 'promt'; "
        r"did you mean 'prompt'\?",
    ):
        Server("s").completion(argument="a", promt="review")  # type: ignore[arg-type]


def test_a_static_resource_that_needs_parameters_is_refused_with_the_template_to_use() -> None:
    server = Server("s")
    with pytest.raises(TypeError) as info:

        @server.resource("users://profile")
        def profile(user_id: str, ctx: Context) -> str:
            return user_id

    message = str(info.value)
    assert "profile() needs the parameters user_id" in message
    assert "'users://profile/{user_id}'" in message
    assert len(server.resources) == 0


def test_a_static_resource_with_defaults_or_only_a_context_registers() -> None:
    server = Server("s")

    @server.resource("a://one")
    def one(ctx: Context, verbose: bool = False) -> str:
        return "1"

    assert "a://one" in server.resources


def test_an_untyped_tool_parameter_warns_naming_the_function_and_parameter() -> None:
    server = Server("s")
    with pytest.warns(RegistrationWarning) as record:

        @server.tool()
        def echo(text, times: int = 1):  # type: ignore[no-untyped-def]
            return text

    (warning,) = record
    assert "echo()" in str(warning.message) and "'text'" in str(warning.message)
    assert warning.filename == __file__  # points at the user's code, not ours


def test_a_tool_with_a_raw_input_schema_does_not_warn() -> None:
    server = Server("s")
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    server.add_tool(lambda text: text, name="echo", input_schema=schema)
    assert "echo" in server.tools


async def test_a_misspelt_option_leaves_a_working_server() -> None:
    server = Server("s")
    with pytest.raises(TypeError):
        server.tool(nmae="x")  # type: ignore[call-overload]

    @server.tool()
    def ok() -> int:
        return 1

    async with Client(server) as client:
        assert (await asyncio.wait_for(client.call_tool("ok"), 5)).structured_content == {
            "result": 1
        }


async def test_a_fastmcp_wildcard_template_matches_across_slashes() -> None:
    server = Server("s")

    @server.resource("files://{path*}")
    def read(path: str) -> str:
        return f"contents of {path}"

    async with asyncio.timeout(10), Client(server) as client:
        deep = await client.read_resource("files://docs/guide/intro.md")
        assert deep.contents[0].text == "contents of docs/guide/intro.md"  # type: ignore[union-attr]
        flat = await client.read_resource("files://readme")
        assert flat.contents[0].text == "contents of readme"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("template", "fix"),
    [("notes://x{;tag*}", "{;tag}"), ("notes://{/dirs*,name}", "put the exploded variable last")],
)
def test_a_template_that_could_never_match_is_refused_at_registration(
    template: str, fix: str
) -> None:
    server = Server("s")
    refused = r"URI template .* cannot be matched|takes the rest"
    with pytest.raises(ValueError, match=refused) as info:
        server.add_resource(lambda: "x", template)
    assert fix in str(info.value)
    assert not server.templates.entries()
