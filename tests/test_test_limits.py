"""Every `async def` test that starts several programs has a limit that covers them: mcpkit's
plugin bounds such a test at 30 s, room for one program on a busy machine, and a test that
started ten doc programs in turn under it failed only when the machine was loaded
(`_processes.starts(n)` gives the limit). A program is started by `running(...)`,
`asyncio.create_subprocess_exec`, `subprocess.run`/`Popen`/`check_output`, a function of
the test's own module that calls one of them, or `Client(...)` given a Python file (a
string or f-string naming a `.py`, a path built with `/`, or a loop's name over such); one
started inside a loop counts as several. An explicit limit in the test (`async with
asyncio.timeout(WAIT)`) bounds what it covers: one name or number over several starts fails
on a busy machine as the plugin's would, whatever the test's mark says."""

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


def _names_a_program(node: ast.expr, programs: set[str]) -> bool:
    """Whether `node` names a Python file (a string or f-string with `.py` in it, a path built
    with `/`) or is a name in `programs`, a loop's names over such."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and ".py" in node.value
    if isinstance(node, ast.Name):
        return node.id in programs
    if isinstance(node, ast.JoinedStr):  # f"{folder}/server.py:app", not f"{base}/mcp"
        return any(_names_a_program(part, programs) for part in node.values)
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)


def _loop_programs(node: ast.AST) -> set[str]:
    """The names loops in `node` bind to Python files (`for target in ("a.py", ...)`)."""
    found: set[str] = set()
    for loop in ast.walk(node):
        if (
            isinstance(loop, ast.For | ast.AsyncFor)
            and isinstance(loop.target, ast.Name)
            and isinstance(loop.iter, ast.Tuple | ast.List)
            and any(_names_a_program(item, set()) for item in loop.iter.elts)
        ):
            found.add(loop.target.id)
    return found


def _starts(
    node: ast.AST, starters: set[str], programs: frozenset[str] = frozenset()
) -> list[ast.Call]:
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and (
            _name(call) in starters
            or (
                _name(call) == "Client"
                and bool(call.args)
                and _names_a_program(call.args[0], set(programs))
            )
        )
    ]


def _programs(node: ast.AST, starters: set[str], programs: frozenset[str]) -> int:
    """How many programs `node` starts, a start inside a loop counted as two."""
    count = len(_starts(node, starters, programs))
    for loop in ast.walk(node):
        if isinstance(loop, ast.For | ast.AsyncFor | ast.While) and _starts(
            loop, starters, programs
        ):
            count += 1
    return count


def _timeout_over_several(
    test: ast.AsyncFunctionDef, starters: set[str], programs: frozenset[str]
) -> bool:
    """Whether one `asyncio.timeout(...)` block of the test, its bound one name or number
    (one program's, not `WAIT * 3`), covers several program starts."""
    return any(
        isinstance(block, ast.AsyncWith)
        and any(_single_bound(item.context_expr) for item in block.items)
        and _programs(ast.Module(body=block.body, type_ignores=[]), starters, programs) >= 2
        for block in ast.walk(test)
    )


def _single_bound(expression: ast.expr) -> bool:
    """Whether `expression` is `asyncio.timeout(X)` with X a name or a number."""
    return (
        isinstance(expression, ast.Call)
        and ast.unparse(expression.func).endswith("timeout")
        and len(expression.args) == 1
        and isinstance(expression.args[0], ast.Name | ast.Constant)
    )


def _limited(node: ast.AST) -> bool:
    marks = node.decorator_list if isinstance(node, ast.AsyncFunctionDef) else []
    return any("mcpkit_timeout" in ast.unparse(d) or "starts(" in ast.unparse(d) for d in marks)


def unbounded(path: Path) -> list[str]:
    """The tests of `path` (as `FILE:LINE NAME`) that start several programs under the
    plugin's default limit."""
    tree = ast.parse(path.read_text())
    marked = False  # the whole module's tests have a limit for several programs
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark"
            for target in statement.targets
        ):
            if "mcpkit_timeout" in ast.unparse(statement) or "starts(" in ast.unparse(statement):
                marked = True
    local = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("test")
        and _starts(node, STARTERS)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("test")):
            continue
        programs = frozenset(_loop_programs(node))
        if _timeout_over_several(node, STARTERS | local, programs) or (
            _programs(node, STARTERS | local, programs) >= 2 and not marked and not _limited(node)
        ):
            found.append(f"{path}:{node.lineno} {node.name}")
    return found


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
        "@starts(3)\nasync def test_files():\n    async with asyncio.timeout(9):\n"
        "        for t in ('a.py', p / 'b.py'):\n            async with Client(t):\n"
        "                pass\n"
        "@starts(2)\nasync def test_each():\n    for t in ('a.py', p / 'b.py'):\n"
        "        async with asyncio.timeout(9), Client(t):\n            pass\n"
        "async def test_memory():\n    async with asyncio.timeout(9):\n"
        "        for s in (one, two):\n            async with Client(s):\n                pass\n"
    )
    (tmp_path / "test_made_here.py").write_text(source)
    found = unbounded(tmp_path / "test_made_here.py")
    assert [line.split()[-1] for line in found] == ["test_two", "test_loop", "test_files"]
