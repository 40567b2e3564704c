"""The package's surface: public names resolve, `import mcpkit` stays light, layers hold."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import mcpkit

SRC = Path(__file__).resolve().parents[1] / "src" / "mcpkit"


def test_every_public_name_resolves() -> None:
    for name in mcpkit.__all__:
        assert getattr(mcpkit, name) is not None, name
    assert sorted(dir(mcpkit)) == sorted(mcpkit.__all__)


def test_import_mcpkit_loads_nothing_heavy() -> None:
    code = (
        "import sys, mcpkit; "
        "print(','.join(m for m in sys.modules if m.startswith(('mcpkit.', 'msgspec', "
        "'jsonschema_rs', 'asyncio'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "", f"import mcpkit loaded: {loaded}"


def test_a_server_leaves_what_few_servers_use_unloaded() -> None:
    """A server that runs loads neither the HTTP server stack nor stdlib that only one
    feature uses: each of these cost a stdio server's resident memory (bench/run, "resident
    memory after initialize": hashlib alone ~0.7 MiB, importlib.resources ~1 MiB)."""
    unwanted = (
        "secrets", "hashlib", "hmac", "random", "tempfile", "shutil", "importlib.resources",
        "json", "sqlite3", "redis", "uvicorn", "mcpkit.transports.http.app",
    )  # fmt: skip
    code = (
        "import sys\nfrom mcpkit import Server\nserver = Server('x')\n"
        "@server.tool()\ndef echo(text: str) -> str:\n    return text\n"
        "server.http_app\n"
        f"print(','.join(m for m in {unwanted!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "", f"a server loaded: {loaded}"


# Which top-level layers each layer may import (DESIGN.md, "Layers"), in order; testing holds
# both ends. A module or package of src/mcpkit missing from this table fails the test: a new
# layer must be placed here deliberately.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "types": {"errors"},
    "protocol": {"errors", "types"},
    "runtime": {"errors", "types", "protocol"},
    "stores": {"errors", "types", "protocol", "runtime"},
    # The ASGI plumbing (scope and message types, a header, a body read, a whole answer) that
    # every layer serving HTTP shares: the development authorization server (auth), the HTTP
    # transports and the inspector. It imports nothing of mcpkit, so it sits below them all.
    "_asgi": set(),
    "auth": {"errors", "types", "protocol", "runtime", "stores", "_asgi"},
    "transports": {"errors", "types", "protocol", "runtime", "stores", "_asgi", "auth"},
    "server": {"errors", "types", "protocol", "runtime", "stores", "_asgi", "auth", "transports"},
    "client": {"errors", "types", "protocol", "runtime", "stores", "_asgi", "auth", "transports"},
    "testing": {
        "errors",
        "types",
        "protocol",
        "runtime",
        "stores",
        "_asgi",
        "auth",
        "transports",
        "server",
        "client",
    },
    "cli": {
        "errors",
        "types",
        "protocol",
        "runtime",
        "stores",
        "_asgi",
        "auth",
        "transports",
        "server",
        "client",
        "testing",
    },
    "__main__": {"cli"},
}
ALLOWED["cli"].add("__init__")  # `mcpkit --version`
# The proxy (`ProxyServer`, a Server answered by another server) builds on the server layer,
# which never imports it; `mcpkit proxy` serves one.
ALLOWED["proxy"] = ALLOWED["server"] | {"server"}
ALLOWED["cli"].add("proxy")
# The web inspector: a client of any TARGET (client.target), started by `mcpkit dev` and
# `mcpkit inspect --web` (imported lazily in their handlers); it never imports the cli.
ALLOWED["inspector"] = set(ALLOWED["cli"])
ALLOWED["cli"].add("inspector")
# MCP Apps' public names (`mcpkit.apps`): the extension's types and the client's helpers.
ALLOWED["apps"] = {"types", "client"}
EVERY_LAYER = set(ALLOWED)
ALLOWED["__init__"] = EVERY_LAYER  # the curated public names, each loaded lazily

# The sans-I/O layers (STYLE.md, habit 1): no event loop, threads, sockets, processes or clock.
SANS_IO = {"errors", "types", "protocol"}
IO_MODULES = {
    "asyncio",
    "anyio",
    "trio",
    "threading",
    "concurrent",
    "socket",
    "selectors",
    "select",
    "ssl",
    "subprocess",
    "signal",
    "os",
    "time",
    "uvloop",
    "httpx",
}


def layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def imported_modules(path: Path, source: str | None = None) -> list[str]:
    """Every module `path` imports, anywhere in it, relative imports resolved; a name taken
    from the `mcpkit` package itself counts as its layer, or as `mcpkit.__init__`."""
    parts = ("mcpkit", *path.relative_to(SRC).with_suffix("").parts)
    package = list(parts[:-1])  # the package a relative import starts from
    names: list[str] = []
    tree = ast.parse(path.read_text() if source is None else source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if base == "mcpkit":
                names.extend(
                    f"mcpkit.{a.name}" if a.name in ALLOWED else "mcpkit.__init__"
                    for a in node.names
                )
            else:
                names.append(base)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted({layer_of(p) for p in SRC.rglob("*.py")} - set(ALLOWED))
    assert unknown == [], f"add these to ALLOWED in the right place: {unknown}"


def test_layers_import_only_downwards() -> None:
    wrong: list[str] = []
    for path in SRC.rglob("*.py"):
        layer = layer_of(path)
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] != "mcpkit" or len(parts) < 2:
                continue
            target = parts[1]
            if target != layer and target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert wrong == []


def test_sans_io_layers_do_no_io() -> None:
    wrong = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in SRC.rglob("*.py")
        if layer_of(path) in SANS_IO
        for name in imported_modules(path)
        if name.split(".")[0] in IO_MODULES
    ]
    assert wrong == []


def test_the_layer_checks_see_what_they_must() -> None:
    """The checks above fail closed: relative, package-level and I/O imports are all seen."""
    probe = SRC / "protocol" / "probe.py"
    source = (
        "def f():\n    from ..server import server\n    import asyncio\n"
        "from time import monotonic\nfrom . import codes\nfrom mcpkit import Server\n"
    )
    names = imported_modules(probe, source)
    assert sorted(names) == [
        "asyncio",
        "mcpkit.__init__",
        "mcpkit.protocol",
        "mcpkit.server",
        "time",
    ]


# ------------------------------------------------------------------ structure (issue 20)

# Import cycles inside a package. Every import counts, deferred (function-local) and type-only
# ones too: they couple modules as much, and a deferred import is the usual way to hide a cycle.
# A new cycle fails; these known ones may only shrink, and when one does, the test asks for
# this table to shrink with it. Break a cycle with a narrow Protocol that the lower module
# names, as the HTTP transport names `HostServer` rather than `Server`.
KNOWN_CYCLES: list[set[str]] = []

# The one exception: a public attribute typed with the class above that creates its owner, so
# users' type checkers see the whole class (`ctx.server.notify_resource_updated(...)`). The
# import is under `if TYPE_CHECKING:` (checked below): nothing runs it, so the cycle exists
# for the type checker only, and narrowing the attribute to a Protocol would take the rest of
# the class away from users. Each entry says which attribute needs it.
TYPE_ONLY_BACK_EDGES: dict[tuple[str, str], str] = {
    ("server.request_facts", "server.server"): "Context.server, the Server that built the Context",
    ("server.mount", "server.server"): "Mount.parent and Mount.server (`Server.mounts`)",
    ("client.middleware", "client.client"): "OutgoingRequest.client, the Client sending",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def import_nodes(
    nodes: Iterable[ast.AST], *, runtime_only: bool
) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement among `nodes` and inside them, at any depth (functions too);
    with `runtime_only`, not those under `if TYPE_CHECKING:` (its `else:` runs, so counts)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif runtime_only and isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from import_nodes(node.orelse, runtime_only=runtime_only)
        else:
            yield from import_nodes(ast.iter_child_nodes(node), runtime_only=runtime_only)


def imports_of(name: str, is_package: bool, source: str, *, runtime_only: bool) -> set[str]:
    """The modules the module `name` (relative to `mcpkit`) imports; `from package import
    name` names the submodule `package.name` too (kept only if it is one, by the caller)."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in import_nodes([ast.parse(source)], runtime_only=runtime_only):
        if isinstance(node, ast.Import):
            found.update(a.name.removeprefix("mcpkit.") for a in node.names)
        else:
            if node.level:
                keep = len(package) - node.level + 1
                base = ".".join(package[:keep] + ([node.module] if node.module else []))
            else:
                base = (node.module or "").removeprefix("mcpkit").removeprefix(".")
            found.add(base)
            found.update(f"{base}.{a.name}".lstrip(".") for a in node.names)
    return found


def module_graph(*, runtime_only: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of src/mcpkit it imports (names relative to `mcpkit`)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = imports_of(
            name, path.name == "__init__.py", path.read_text(), runtime_only=runtime_only
        )
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def import_graph() -> dict[str, set[str]]:
    """The graph the cycle check reads: every import but the `TYPE_ONLY_BACK_EDGES`."""
    graph = module_graph()
    for importer, imported in TYPE_ONLY_BACK_EDGES:
        graph[importer].discard(imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def test_no_new_import_cycle_inside_a_package() -> None:
    found = cycles(import_graph())
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CYCLES)]
    assert new == [], f"new import cycles (break them with a narrow Protocol): {new}"
    shrunk = [sorted(k) for k in KNOWN_CYCLES if k not in found]
    assert shrunk == [], f"a known cycle shrank or went: update KNOWN_CYCLES to {found}"


def test_the_type_only_back_edges_are_type_only_and_still_there() -> None:
    everything, at_run_time = module_graph(), module_graph(runtime_only=True)
    for (importer, imported), why in TYPE_ONLY_BACK_EDGES.items():
        assert imported in everything[importer], f"gone: drop it from the table ({why})"
        assert imported not in at_run_time[importer], f"{importer} runs its import of {imported}"


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_cycle_check_sees_deferred_and_type_only_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mcpkit.server.server import Server\n"
        "else:\n    from . import tools\n"
        "def f():\n    from .handlers import features\n"
    )
    every = imports_of("server.context", False, source, runtime_only=False)
    assert {"server.server", "server.tools", "server.handlers.features"} <= every
    run = imports_of("server.context", False, source, runtime_only=True)
    assert "server.handlers.features" in run  # a deferred import runs: it counts
    assert "server.tools" in run and "server.server" not in run


def channel_probes(source: str) -> list[str]:
    """`getattr(<something named like a channel>, ...)` calls in `source`."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr")
        and node.args
        and "channel" in ast.unparse(node.args[0]).lower()
    ]


def test_channels_are_asked_for_their_optional_methods_in_one_place() -> None:
    """`mcpkit.runtime.channel.extras_of` is the one place that probes a channel: elsewhere a
    type checker sees each optional method through `ChannelExtras`."""
    home = SRC / "runtime" / "channel.py"
    probes = [
        f"{path.relative_to(SRC)}: {probe}"
        for path in SRC.rglob("*.py")
        if path != home
        for probe in channel_probes(path.read_text())
    ]
    assert probes == []
    assert channel_probes("getattr(self._connection.channel, 'http', None)") != []


def test_the_asgi_types_are_defined_once() -> None:
    """`mcpkit._asgi` is the one home of the ASGI scope and message types: an app elsewhere
    imports `Scope`, `Message`, `Receive` and `Send` rather than spelling their shape again
    (auth and the inspector each had a copy)."""
    home = SRC / "_asgi.py"
    shape = "MutableMapping[str, Any]"  # an ASGI scope or message, as the ASGI spec types it
    copies = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path != home and shape in path.read_text()
    ]
    assert copies == []
    assert f"Scope = {shape}" in home.read_text()
    assert ALLOWED["_asgi"] == set()  # it builds on nothing of mcpkit: every HTTP layer may


# The server modules that serve over a transport; the rest of the server (its catalog, access
# checks, handlers) works the same whatever carries the request, so it imports no transport:
# what it shares with one lives in a layer both may import (protocol, say).
SERVES_OVER_TRANSPORTS = {"server.serving", "server._http_run"}


def test_only_the_serving_modules_of_the_server_import_transports() -> None:
    graph = module_graph()
    reaching = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name.startswith("server.") and name not in SERVES_OVER_TRANSPORTS
        for target in targets
        if target.startswith("transports")
    )
    assert reaching == []
    assert all(name in graph for name in SERVES_OVER_TRANSPORTS), "renamed: update the set"


def test_no_two_layers_may_import_each_other() -> None:
    """Two layers allowed each other's modules are one layer in two folders (the cli and the
    inspector were, through cli.target): what both use belongs in a layer below them."""
    layers = set(ALLOWED) - {"__init__"}  # the lazy public names, which every layer may use
    mutual = sorted(
        f"{a} <-> {b}" for a in layers for b in ALLOWED[a] & layers if a < b and a in ALLOWED[b]
    )
    assert mutual == []


def test_the_test_files_the_sources_cite_exist() -> None:
    """A comment or docstring that names the test guarding it names one that is there: a
    reader who follows `tests/x/test_y.py` finds it (runtime/channel.py named a file that had
    never existed)."""
    root = SRC.parents[1]
    cited = re.compile(r"\btests/[\w/]+\.py\b")
    texts = [*SRC.rglob("*.py"), *(root / "docs").rglob("*.md"), root / "README.md"]
    missing = sorted(
        f"{path.relative_to(root)}: {name}"
        for path in texts
        for name in set(cited.findall(path.read_text()))
        if not (root / name).is_file()
    )
    assert missing == []
