"""`ctx.server` is typed `ServerApi` (mcpkit.server.surface), which lists every public name of
`Server`: users' type checkers see the whole class through it, without an import cycle."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

from mcpkit import Server
from mcpkit.server.catalog.catalog import Catalog
from mcpkit.server.serving.broadcasts import SessionBroadcasts
from mcpkit.server.serving.lifespan import ServerLifespan
from mcpkit.server.serving.transport_serving import TransportServing
from mcpkit.server.surface import ServerApi

ROOT = Path(__file__).resolve().parents[2]


def _public(names: object) -> set[str]:
    return {n for n in names if not n.startswith("_")}  # type: ignore[attr-defined]


def _declared() -> set[str]:
    """The members `ServerApi` declares: its annotations and its methods and properties."""
    return _public(ServerApi.__annotations__) | _public(vars(ServerApi))


def test_the_surface_lists_every_public_name_of_server() -> None:
    server = Server("x")
    public = _public(dir(Server)) | _public(vars(server))
    missing = sorted(public - _declared())
    assert missing == [], f"declare these in mcpkit.server.surface.ServerApi: {missing}"


def test_the_surface_names_nothing_server_lacks() -> None:
    server = Server("x")
    extra = sorted(n for n in _declared() if not hasattr(server, n))
    assert extra == []


def test_a_server_holds_its_parts_rather_than_inheriting_them() -> None:
    """Issue 40: a server's registrations, its lifespan, its broadcasts and its serving are
    objects it holds, not its bases (the public names stay on `Server`, handing over)."""
    assert Server.__mro__ == (Server, object)
    server = Server("x")
    assert isinstance(server._catalog, Catalog)
    assert isinstance(server._span, ServerLifespan)
    assert isinstance(server._broadcasts, SessionBroadcasts)
    assert isinstance(server._serving, TransportServing)


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


def test_a_type_checker_sees_the_whole_server_through_ctx_server(tmp_path: Path) -> None:
    """What docs/server.md shows (`await ctx.server.notify_resource_updated(...)`) and the
    rest of Server's public surface type-check through `ctx.server`; a name Server lacks
    does not (so the check sees the Protocol, not Any)."""
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
            other = Server("other")
            ctx.server.mount(other, "o")
            for mount in ctx.server.mounts:
                names.append(mount.server.name)
            return f"{ctx.server.name} {ctx.server.info.version} {names}"

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
    assert "no_such_method" in errors[0] and ":20:" in errors[0], run.stdout
