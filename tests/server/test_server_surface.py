"""A `Server` is its core (`mcpkit.server.core.ServerCore`: settings, catalog, stores,
broadcasts, lifespan), the way into its requests (`mcpkit.server.handlers.dispatch.ServerDispatch`)
and its facade (decorators and serving). `ctx.server` is typed with the core, which names
no module that names the Context: users' type checkers see what a handler uses through it,
and no list of `Server`'s names is written twice."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

from mcpkit import Server
from mcpkit.server.catalog.catalog import Catalog
from mcpkit.server.core import ServerCore
from mcpkit.server.handlers.dispatch import ServerDispatch
from mcpkit.server.serving.broadcasts import Broadcasts
from mcpkit.server.serving.lifespan import ServerLifespan
from mcpkit.server.serving.transport_serving import TransportServing

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mcpkit"


def test_a_server_is_its_core_with_dispatch_and_facade_and_holds_its_parts() -> None:
    """One line of classes, each a job (no part-class reading what another sets), and the
    registrations, lifespan, broadcasts and serving held as objects (issue 40)."""
    assert Server.__mro__ == (Server, ServerDispatch, ServerCore, object)
    server = Server("x")
    assert isinstance(server._catalog, Catalog)
    assert isinstance(server._span, ServerLifespan)
    assert isinstance(server._broadcasts, Broadcasts)
    assert isinstance(server._serving, TransportServing)


def test_the_decorators_and_serving_are_the_facade_s_and_the_requests_the_dispatcher_s() -> None:
    facade = ("tool", "prompt", "resource", "from_openapi", "mount", "serve", "run", "http_app")
    for name in facade:
        assert name in vars(Server) and not hasattr(ServerDispatch, name), name
    for name in ("handle_request", "handle_event", "handle_mounted", "read_resource"):
        assert name in vars(ServerDispatch), name
    core = ("notify_resource_updated", "capabilities", "lifespan_state", "running", "add_tool")
    for name in core:
        assert name in vars(ServerCore), name


def _imports(module: str) -> set[str]:
    """Every mcpkit module `module` imports (TYPE_CHECKING and deferred imports too)."""
    path = SRC.joinpath(*module.split(".")).with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.removeprefix("mcpkit."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("mcpkit.") for a in node.names)
    return {m for m in found if SRC.joinpath(*m.split(".")).with_suffix(".py").exists()}


def test_the_core_reaches_no_module_that_names_the_context() -> None:
    """What would make typing `ctx.server` with the core an import cycle."""
    seen: set[str] = set()
    pending = ["server.core"]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(_imports(module))
    assert "server.context" not in seen
    assert "server.request_facts" not in seen


def test_what_the_catalog_serves_keeps_its_signature_and_docstring() -> None:
    """`help(Server)` and `inspect` show the catalog's signature and docstring of each
    registering method, on the class and on a server alike."""
    assert list(inspect.signature(Server.add_tool).parameters) == ["self", "fn", "name", "options"]
    assert "`{variables}`" in (Server.resource.__doc__ or "")
    server = Server("x")
    assert list(inspect.signature(server.add_skill).parameters) == [
        "source",
        "prefix",
        "files",
        "scheme",
    ]
    assert "SEP-2133" in (server.declare_extension.__doc__ or "")
    for name in ("tool", "prompt"):  # written out on Server, for their overloads
        assert f"`@server.{name}`" in (getattr(Server, name).__doc__ or ""), name


def test_lenient_arguments_set_on_a_server_is_the_default_of_the_tools_added_after() -> None:
    """The setting is the catalog's, read and written through the server."""
    server = Server("x")
    server.lenient_arguments = True

    @server.tool
    def double(a: int) -> int:
        return 2 * a

    spec = server.tools.get("double")
    assert spec is not None and spec.signature.coerce
    assert server._catalog.lenient_arguments


def test_a_type_checker_sees_the_core_through_ctx_server(tmp_path: Path) -> None:
    """What docs/server.md shows (`await ctx.server.notify_resource_updated(...)`,
    `ctx.server.name`) and the rest of what a handler reaches type-check through
    `ctx.server`; a name the core lacks does not (so the check sees the core, not Any)."""
    source = textwrap.dedent(
        """
        from mcpkit import Context, Server
        from mcpkit.server.catalog.tools import ToolSpec

        server = Server("notes")

        @server.tool
        async def touch(uri: str, ctx: Context) -> str:
            await ctx.server.notify_resource_updated(uri)
            spec: ToolSpec = ctx.server.add_tool(len, name="size")
            ctx.server.remove_tool(spec.name)
            names: list[str] = [s.name for s in ctx.server.tools.items()]
            for mount in ctx.server.mounts:
                names.append(mount.server.name)
            timeout: float | None = ctx.server.request_timeout
            state = ctx.server.lifespan_state
            listed = ctx.server.capabilities().tools
            return f"{ctx.server.name} {ctx.server.info.version} {names} {timeout} {state} {listed}"

        async def wrong(ctx: Context) -> None:
            ctx.server.no_such_method()
        """
    )
    path = tmp_path / "uses_ctx_server.py"
    path.write_text(source)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "pyright"), "--pythonpath", sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    errors = [line for line in run.stdout.splitlines() if " - error: " in line]
    assert len(errors) == 1, run.stdout
    assert "no_such_method" in errors[0] and ":21:" in errors[0], run.stdout
