"""`mcpkit generate client` end to end: the module made from examples/everything.py calls every
tool with typed results, type-checks under pyright and mypy strict (as code using it does, and
misuse does not), and a hostile tool list still gives a module that imports, type-checks and
runs nothing it was sent."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from _codegen_files import EVERYTHING, import_file

from mcpkit import Client, PeerError, ToolError, ToolResult
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    Root,
    TextContent,
)

BIN = Path(sys.executable).parent
CHECK_WAIT = 300  # seconds: a bound on a hung checker, not a measurement
GENERATED = ("everything", "hostile", "empty")

USES = """
from mcpkit import Client, ToolResult
from everything_client import EverythingClient, StatsResult

async def uses(client: Client) -> None:
    tools = EverythingClient(client)
    total: int = await tools.add(a=1, b=2)
    stats: StatsResult = await tools.stats(values=[1.0, 2])
    count: int = stats["count"]
    values: list[float] = stats.get("values", [])
    quotient: float = await tools.divide(a=1, b=2.5)
    roots: list[str] = await tools.roots()
    blocks: ToolResult = await tools.files()
    print(total, count, values, quotient, roots, blocks)
"""

# Each line must be an error: the types are the schemas', not Any.
MISUSES = """
from mcpkit import Client
from everything_client import EverythingClient

async def misuses(client: Client) -> None:
    tools = EverythingClient(client)
    await tools.add(a="1", b=2)
    await tools.add(a=1)
    wrong: str = await tools.add(a=1, b=2)
    (await tools.stats(values=[1.0]))["median"]
    await tools.nothing_such()
"""


def _load_everything() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("codegen_everything", EVERYTHING)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _sampling(params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", model="m", content=TextContent(text="forty-two"))


def _elicitation(params: ElicitRequestParams) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada", "age": 36, "color": "red"}}


def _url_elicitation(params: ElicitRequestParams) -> dict[str, Any]:
    return {"action": "accept"}


async def test_the_generated_client_calls_every_tool_of_everything(generated: Path) -> None:
    module = import_file(generated / "everything_client.py")
    server = _load_everything().server
    options: dict[str, Any] = {
        "sampling_handler": _sampling,
        "elicitation_handler": _elicitation,
        "url_elicitation_handler": _url_elicitation,
        "roots": [Root(uri="file:///work", name="work")],
    }
    async with asyncio.timeout(30), Client(server, **options) as client:
        listed = {tool.name for tool in await client.list_tools()}
        tools = module.EverythingClient(client)
        assert await tools.add(a=2, b=3) == 5
        assert await tools.stats(values=[1.0, 2.0, 6.0]) == {
            "count": 3,
            "mean": 3.0,
            "values": [1.0, 2.0, 6.0],
        }
        assert await tools.divide(a=1, b=4) == 0.25
        try:
            await tools.divide(a=1, b=0)
        except ToolError as exc:
            assert str(exc) == "b must not be zero"
        else:
            raise AssertionError("an error result did not raise")
        files = await tools.files()
        assert isinstance(files, ToolResult)
        assert [block.type for block in files.content] == ["text", "resource_link", "resource"]
        assert (await tools.slow(seconds=0.1)).text == "done"
        assert await tools.visit() == 1
        assert (await tools.ask_model(question="why?")).text == "forty-two"
        assert (await tools.sign_up()).text.startswith("Ada, 36, red")
        assert (await tools.connect_account()).text == "connect: accept"
        assert await tools.roots() == ["file:///work"]
        assert (await tools.add_greeting_tool()).text == "added greet"
        assert (await tools.write_note(name="todo", body="done")).text == "saved"
    called = {"add", "stats", "divide", "files", "slow", "visit", "ask_model", "sign_up"}
    called |= {"connect_account", "roots", "add_greeting_tool", "write_note"}
    assert listed == called  # a tool everything.py gains must be called here too


def test_generated_files_pass_pyright_strict_and_code_using_them_too(generated: Path) -> None:
    (generated / "uses.py").write_text(textwrap.dedent(USES))
    (generated / "misuses.py").write_text(textwrap.dedent(MISUSES))
    (generated / "pyrightconfig.json").write_text('{"strict": ["."], "pythonVersion": "3.11"}')
    files = [f"{name}_{kind}.py" for name in GENERATED for kind in ("client", "cli")]
    ran = subprocess.run(
        [str(BIN / "pyright"), "--pythonpath", sys.executable, *files, "uses.py", "misuses.py"],
        capture_output=True,
        text=True,
        timeout=CHECK_WAIT,
        cwd=generated,
    )
    errors = [line.strip() for line in ran.stdout.splitlines() if " - error: " in line]
    wrong = [line for line in errors if "misuses.py" not in line]
    assert wrong == [], ran.stdout
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [7, 8, 9, 10, 11], ran.stdout  # each misuse, and nothing else


def test_generated_files_pass_mypy_strict(generated: Path) -> None:
    files = [f"{name}_{kind}.py" for name in GENERATED for kind in ("client", "cli")]
    ran = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        capture_output=True,
        text=True,
        timeout=CHECK_WAIT,
        cwd=generated,
    )
    assert ran.returncode == 0 and "Success" in ran.stdout, ran.stdout + ran.stderr


def test_a_hostile_tool_list_gives_a_module_that_runs_nothing_it_was_sent(generated: Path) -> None:
    source = (generated / "hostile_client.py").read_text()
    tree = ast.parse(source)
    raised = {
        node.exc.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
    }
    assert raised == {"ToolError", "PeerError"}  # the module's own, none of the escapes'
    imported = [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imported == [
        "from __future__ import annotations",
        "import enum",
        "from typing import Any, Literal, NotRequired, TypeAlias, TypedDict, cast",
        "from mcpkit import Client, PeerError, ToolError, ToolResult",
    ]
    module = import_file(generated / "hostile_client.py")  # the escapes would raise here
    methods = [
        name
        for name in vars(module.RaiseRuntimeErrorInjected1EverythingClient)
        if not name.startswith("_")
    ]
    assert methods == [
        *("class_", "class__2", "class__3", "tool_result", "client_", "init", "class__4"),
        *("odd_shapes", "raise_runtime_error_injected_3"),
    ]


async def test_hostile_names_reach_the_server_as_it_spelt_them(generated: Path) -> None:
    module = import_file(generated / "hostile_client.py")
    sent: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = []

    class Recorder:
        async def call_tool(
            self, name: str, arguments: dict[str, Any] | None = None, **options: Any
        ) -> Any:
            sent.append((name, arguments, options))
            return ToolResult(content=[], structured_content={"huge": "v1"})

    tools = module.RaiseRuntimeErrorInjected1EverythingClient(Recorder())
    await tools.class_(class_=1, a_b="dash", arg_2="empty", a_b_2="under", self_=2.5, none=None)
    await tools.class__2()
    assert await tools.class__3(tree={"children": []}) == {"huge": "v1"}
    await tools.raise_runtime_error_injected_3(q="x")
    await tools.client_()  # its taskSupport is "required": called as a task
    assert sent == [
        (
            "class",
            {"class": 1, "a-b": "dash", "a_b": "under", "self": 2.5, "None": None, "": "empty"},
            {},
        ),
        ("class!", {}, {}),
        ("Class", {"tree": {"children": []}}, {}),
        ('"); raise RuntimeError("injected 3"); ("', {"q": "x"}, {}),
        ("client", {}, {"task": True}),
    ]


async def test_results_that_break_their_schema_raise_peer_error(generated: Path) -> None:
    module = import_file(generated / "everything_client.py")
    answers = [
        ToolResult(content=[TextContent(text="5")]),  # no structured content
        ToolResult(content=[], structured_content={"value": 5}),  # not wrapped in "result"
        ToolResult(content=[TextContent(text="overflow")], is_error=True),
    ]

    class Answering:
        async def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
            return answers.pop(0)

    tools = module.EverythingClient(Answering())
    for said in ("declares an output schema but answered no structured", "without it"):
        try:
            await tools.add(a=1, b=2)
        except PeerError as exc:
            assert exc.code == -32602 and said in exc.message
        else:
            raise AssertionError("a result that breaks its schema was returned")
    try:
        await tools.add(a=1, b=2)
    except ToolError as exc:
        assert str(exc) == "overflow"
    else:
        raise AssertionError("an error result was returned")
