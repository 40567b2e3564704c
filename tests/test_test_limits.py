"""Every `async def` test that starts several programs has a limit that covers them: mcpkit's
plugin bounds such a test at 30 s, room for one program on a busy machine, and a test that
started ten doc programs in turn under it failed only when the machine was loaded
(`_processes.starts(n)` gives the limit). A program is started by `running(...)`,
`asyncio.create_subprocess_exec`, `subprocess.run`/`Popen`/`check_output`, or a function of
the test's own module that calls one of them; one started inside a loop counts as several."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STARTERS = {
    "running",
    "create_subprocess_exec",
    "subprocess.run",
    "Popen",
    "check_output",
    "check_call",
}


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        if (
            func.attr == "run"
            and isinstance(func.value, ast.Name)
            and func.value.id == "subprocess"
        ):
            return "subprocess.run"
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _starts(node: ast.AST, starters: set[str]) -> list[ast.Call]:
    return [
        call for call in ast.walk(node) if isinstance(call, ast.Call) and _name(call) in starters
    ]


def _programs(test: ast.AsyncFunctionDef, starters: set[str]) -> int:
    """How many programs the test starts, a start inside a loop counted as two."""
    count = len(_starts(test, starters))
    for loop in ast.walk(test):
        if isinstance(loop, ast.For | ast.AsyncFor | ast.While) and _starts(loop, starters):
            count += 1
    return count


def _limited(node: ast.AST) -> bool:
    marks = node.decorator_list if isinstance(node, ast.AsyncFunctionDef) else []
    return any("mcpkit_timeout" in ast.unparse(d) or "starts(" in ast.unparse(d) for d in marks)


def unbounded(path: Path) -> list[str]:
    """The tests of `path` (as `FILE:LINE NAME`) that start several programs under the
    plugin's default limit."""
    tree = ast.parse(path.read_text())
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark"
            for target in statement.targets
        ):
            if "mcpkit_timeout" in ast.unparse(statement) or "starts(" in ast.unparse(statement):
                return []
    local = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("test")
        and _starts(node, STARTERS)
    }
    return [
        f"{path}:{node.lineno} {node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and _programs(node, STARTERS | local) >= 2
        and not _limited(node)
    ]


def test_every_test_starting_several_programs_has_a_limit_for_them() -> None:
    found = [
        line for path in sorted(TESTS.rglob("test_*.py")) if "node_modules" not in path.parts
        for line in unbounded(path)
    ]  # fmt: skip
    assert not found, "mark these @starts(n) (tests/_processes.py):\n" + "\n".join(found)


def test_the_check_finds_a_test_that_starts_two_programs(tmp_path: Path) -> None:
    source = (
        "async def helper():\n    await asyncio.create_subprocess_exec('x')\n"
        "async def test_two():\n    async with running(a), running(b):\n        pass\n"
        "async def test_loop():\n    for _ in x:\n        await helper()\n"
        "@starts(2)\nasync def test_marked():\n    await helper()\n    await helper()\n"
        "async def test_one():\n    await helper()\n"
    )
    (tmp_path / "test_made_here.py").write_text(source)
    found = unbounded(tmp_path / "test_made_here.py")
    assert [line.split()[-1] for line in found] == ["test_two", "test_loop"]
