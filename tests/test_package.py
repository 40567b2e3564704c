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
        "json", "sqlite3", "redis", "uvicorn", "mcpkit.transports.deployment.app",
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
    # `served_by`, a public method handed to a collaborator its class holds (issue 40: objects
    # hold collaborators): `Server` and `Client` both use it. It imports nothing of mcpkit.
    "_delegation": set(),
    # The version, which `Server` sends when given none and `mcpkit --version` prints.
    "_version": set(),
    # An outside host's answer read within a byte bound, a compressed one counted as it
    # unpacks: the authorization code's fetches (auth), the OpenAPI engine's (openapi) and
    # the HTTP client transport's JSON answers. It imports only httpx, through `_extras`.
    "_bounded_answer": set(),
    "auth": {"errors", "types", "protocol", "runtime", "stores", "_asgi", "_bounded_answer"},
    "transports": {
        *("errors", "types", "protocol", "runtime", "stores", "_asgi", "auth", "_bounded_answer"),
    },
    "server": {
        *("errors", "types", "protocol", "runtime", "stores", "_asgi", "auth", "transports"),
        "_delegation",
        "_version",
        # `Server.from_openapi`: the engine below, on errors only (`openapi` below)
        "openapi",
    },
    "client": {
        *("errors", "types", "protocol", "runtime", "stores", "_asgi", "auth", "transports"),
        "_delegation",
    },
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
# OpenAPI documents as tools (`mcpkit.openapi`): an adapter on errors and the bounded answer
# reader only, so that the server layer builds on it (`Server.from_openapi`, imported there
# only when called: it needs httpx).
ALLOWED["openapi"] = {"errors", "_bounded_answer"}
# Source generated from a server's tools (`mcpkit.codegen`): pure text from JSON, on nothing of
# mcpkit; `mcpkit generate` fetches the tools and writes it.
ALLOWED["codegen"] = set()
ALLOWED["cli"].add("codegen")
# MCP Apps' public names (`mcpkit.apps`): the extension's types and the client's helpers.
ALLOWED["apps"] = {"types", "client"}
# Function platforms (`mcpkit.serverless`: AWS Lambda) drive the HTTP transport's app in
# process; `Server.lambda_handler` hands itself to it (imported only when called).
ALLOWED["serverless"] = ALLOWED["transports"] | {"transports"}
ALLOWED["server"].add("serverless")
# A client's tools handed to an LLM and sampling handlers over LLM APIs (`mcpkit.llm`): an
# adapter above the client, which never imports it; the providers' SDKs are extras.
ALLOWED["llm"] = {"errors", "types", "protocol", "client"}  # protocol: its error codes
# The extras and the one way a module of theirs is imported (`mcpkit._extras`), on errors
# only: every layer above the sans-I/O ones may import an extra's module through it.
ALLOWED["_extras"] = {"errors"}
for _layer in set(ALLOWED) - {"errors", "types", "protocol", "_asgi", "_delegation", "_extras"}:
    ALLOWED[_layer].add("_extras")
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
# ones too: they couple modules as much, and a deferred import or one under `if TYPE_CHECKING:`
# is the usual way to hide a cycle. Break one with a narrow Protocol that the lower module
# names, as the HTTP transport names `HostServer` and `ctx.server` is a `ServerApi` rather
# than a `Server`. These known ones may only shrink, and when one does, the test asks for this
# table to shrink with it.
KNOWN_CYCLES: list[set[str]] = []


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


def module_graph() -> dict[str, set[str]]:
    """Module -> the modules of src/mcpkit it imports (names relative to `mcpkit`), every
    import counted."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = imports_of(name, path.name == "__init__.py", path.read_text(), runtime_only=False)
        graph[name] = {m for m in found if m in modules and m != name}
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
    found = cycles(module_graph())
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CYCLES)]
    assert new == [], f"new import cycles (break them with a narrow Protocol): {new}"
    shrunk = [sorted(k) for k in KNOWN_CYCLES if k not in found]
    assert shrunk == [], f"a known cycle shrank or went: update KNOWN_CYCLES to {found}"


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


def literal_probes(source: str) -> list[str]:
    """Every `getattr(obj, "name", default)` and `hasattr(obj, "name")` in `source`: a
    question whether an object has a member of that name, asked where it is used."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and len(node.args) == {"getattr": 3, "hasattr": 2}.get(node.func.id)
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ]


# Why each probe left in src/ is not one of an interface of ours (STYLE.md, habit 15: an
# optional capability is a Protocol of its own, told with `isinstance` where the object is
# built, as `SharedBroker`, `ClosingRedirect` and `runtime.channel`'s capabilities are).
_WIRE = (
    "a wire struct that is one of several shapes (the params or result of any method, a "
    "content block, a capability): the field is one some of those shapes have"
)
_ARGS = "argparse's Namespace: each verb's parser adds options of its own"
_USER = "a user's object (function, class, module, stream), as Python or a library made it"
_OPTIONAL_LIB = "an optional library's module or object, whose names differ by version"
_POSIX = "the os module: the name exists on POSIX only"
_UVICORN = (
    "uvicorn's own connection objects and the marks this module sets on them: the one "
    "deployment module that reads uvicorn's internals, checked against uvicorn's shape at start"
)
PROBES_ALLOWED: dict[str, dict[str, str]] = {
    "auth/client/storage.py": {
        "getattr(os, 'O_NOFOLLOW', 0)": _POSIX,
        "getattr(os, 'getuid', None)": _POSIX,
    },
    "stores/_private_files.py": {"getattr(os, 'getuid', None)": _POSIX},
    "cli/_output.py": {"getattr(stream, 'isatty', None)": _USER},
    "cli/project_trust.py": {"getattr(args, 'trust_project', False)": _ARGS},
    "cli/_serve.py": {
        "getattr(server, 'name', 'the server')": "what `mcpkit run` found in the user's file: "
        "a Server, or any object with a run()",
    },
    "cli/_verb_client.py": {
        "getattr(args, 'protocol', 'auto')": _ARGS,
        "getattr(args, 'root', None)": _ARGS,
        "getattr(args, 'state_key', None)": _ARGS,
        "getattr(args, 'save_dir', None)": _ARGS,
        "hasattr(args, 'no_input')": _ARGS,
    },
    "cli/main.py": {
        "getattr(args, 'handler', None)": _ARGS,
        "getattr(args, 'verb_parser', parser)": _ARGS,
    },
    "cli/user_server.py": {
        "getattr(module, '__file__', None)": _USER,
        "hasattr(obj, '__name__')": _USER,
        "hasattr(obj, '__self__')": _USER,
    },
    "protocol/pending.py": {"getattr(params, 'meta', None)": _WIRE},
    "protocol/answering.py": {"getattr(params, 'meta', None)": _WIRE},
    "runtime/workers.py": {
        "getattr(self._local, 'inbox', None)": "a threading.local: the attribute exists in the "
        "threads that set it",
    },
    "server/schemas/_class_fields.py": {
        "getattr(cls, '__optional_keys__', frozenset())": _USER,
        "getattr(cls, '__struct_config__', None)": _USER,
        "hasattr(cls, '__attrs_attrs__')": _USER,
        "hasattr(cls, '_fields')": _USER,
    },
    "server/schemas/_foreign_metadata.py": {
        "getattr(loaded('annotated_types'), 'GroupedMetadata', None)": _OPTIONAL_LIB,
        "getattr(loaded('pydantic.fields'), 'FieldInfo', None)": _OPTIONAL_LIB,
        "getattr(loaded('pydantic_core'), 'PydanticUndefined', None)": _OPTIONAL_LIB,
        "getattr(info.__class__, '__slots__', ())": _OPTIONAL_LIB,
    },
    "server/schemas/_hints.py": {
        "getattr(exc, 'errors', None)": _OPTIONAL_LIB,
        "getattr(module, 'BaseModel', None)": _OPTIONAL_LIB,
        "getattr(sys.modules.get('pydantic.dataclasses'), 'is_pydantic_dataclass', None)": (
            _OPTIONAL_LIB
        ),
    },
    "server/schemas/_annotations.py": {
        "getattr(target, '__annotations__', {})": _USER,
        "getattr(target, '__closure__', None)": _USER,
        "getattr(target, '__code__', None)": _USER,
        "getattr(target, '__globals__', {})": _USER,
        "getattr(tp, '__name__', None)": _USER,
    },
    "server/elicitation_schema.py": {
        "getattr(base, '__name__', base)": _USER,
        "getattr(tp, '__name__', tp)": _USER,
    },
    "server/handlers/listen.py": {"getattr(params, 'notifications', None)": _WIRE},
    "server/catalog/calling/invoke.py": {"getattr(fn, '__annotations__', {})": _USER},
    "server/catalog/registration_checks.py": {"getattr(fn, '__qualname__', None)": _USER},
    "server/asking/round_trip.py": {
        "getattr(params, 'input_responses', None)": _WIRE,
        "getattr(params, 'name', None)": _WIRE,
        "getattr(params, 'request_state', None)": _WIRE,
        "getattr(params, 'uri', '')": _WIRE,
    },
    "transports/_pipes.py": {
        "getattr(transport, 'max_size', None)": "asyncio's read transport: uvloop's has no "
        "max_size, the standard one does",
    },
    "transports/deployment/connection_limits.py": {
        "getattr(c, '_mk_opened_at', 0.0)": _UVICORN,
        "getattr(connection, '_expire', None)": _UVICORN,
        "getattr(other, '_mk_idle_at', None)": _UVICORN,
        "getattr(other, '_mk_linger_until', None)": _UVICORN,
        "getattr(protocol, '_mk_opened_at', None)": _UVICORN,
        "getattr(protocol, 'client', None)": _UVICORN,
        "getattr(protocol, 'cycle', None)": _UVICORN,
    },
    "transports/stdio_server.py": {
        "getattr(raw, 'read1', raw.read)": _USER,
        "getattr(source, 'buffer', source)": _USER,
        "getattr(target, 'buffer', target)": _USER,
    },
}


def test_nothing_is_probed_for_a_member_of_an_interface_of_ours() -> None:
    """An optional capability of an object of ours is a Protocol of its own, told once with
    `isinstance` where the object is built; `getattr(obj, "name", default)` or `hasattr` at
    a use is a probe, whatever the name (STYLE.md, habit 15). The probes left are of objects
    that are not ours, each listed in `PROBES_ALLOWED` with the reason."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        probes = literal_probes(path.read_text())
        if probes:
            found[str(path.relative_to(SRC))] = set(probes)
    new = sorted(
        f"{file}: {probe}"
        for file, probes in found.items()
        for probe in probes
        if probe not in PROBES_ALLOWED.get(file, {})
    )
    assert new == [], f"declare a Protocol and tell it with isinstance instead: {new}"
    gone = sorted(
        f"{file}: {probe}"
        for file, allowed in PROBES_ALLOWED.items()
        for probe in allowed
        if probe not in found.get(file, set())
    )
    assert gone == [], f"no longer in src/: drop from PROBES_ALLOWED: {gone}"


def test_the_probe_check_sees_every_probe() -> None:
    source = (
        "getattr(self._connection.channel, 'http', None)\n"
        "getattr(broker, 'forward_cancel', None)\nhasattr(x, 'start')\n"
        "getattr(args, name)\ngetattr(obj, name, None)\n"
    )
    assert literal_probes(source) == [
        "getattr(self._connection.channel, 'http', None)",
        "getattr(broker, 'forward_cancel', None)",
        "hasattr(x, 'start')",
    ]


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
# (`server.core` and `server.server` too: `ServerCore` names the custom routes its mounted
# servers' HTTP apps serve, and `Server`, whose serving methods hand over to
# `TransportServing`, names the types those methods take and return.)
SERVES_OVER_TRANSPORTS = {
    "server.serving.transport_serving",
    "server.serving.http_routes",
    "server.serving._http_run",
    "server.serving.card_publishing",  # the Server Card's routes (publish_card)
    "server.core",
    "server.server",
}


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


# The HTTP binding (transports/http: what the spec's transport section describes) and what a
# deployment adds around it (transports/deployment: the app that serves it, uvicorn's protocol,
# connection and body budgets, health, the approval page, custom routes, forwarded headers):
# the deployment builds on the binding, never the reverse (DESIGN.md, "Layers", item 6).
BINDING_NEVER_IMPORTS = ("transports.deployment", "transports.legacy_sse")


def test_the_http_binding_never_imports_its_deployment() -> None:
    graph = module_graph()
    assert any(name.startswith("transports.deployment.") for name in graph), "renamed?"
    reaching = sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        if name.startswith("transports.http.")
        for target in targets
        if target.startswith(BINDING_NEVER_IMPORTS)
    )
    assert reaching == []


# ------------------------------------------------------------------ rooms of server/ (issue 40)

SERVER = SRC / "server"
# At the top of server/: the framework's face (`Server`, `Context` with its `RequestFacts`,
# the client as a handler sees it: a session's handle or a lone request's `RequestPeer`,
# `ServerCore`, what `ctx.server` is typed as) and the modules docs/ tells users to import
# from (docs/server.md, "Where the names come from"). Everything else lives in a room by its job.
MAX_TOP_MODULES = 12


def rooms_of(graph: dict[str, set[str]], package: str) -> dict[str, set[str]]:
    """The subpackages ("rooms") of `package` and the rooms each imports, every import of
    every module inside one counted; the package's own top modules are not rooms."""
    prefix = f"{package}."
    inside = [n.removeprefix(prefix).split(".") for n in graph if n.startswith(prefix)]
    packages = {parts[0] for parts in inside if len(parts) > 1}

    def room(name: str) -> str | None:
        first = name.removeprefix(prefix).split(".")[0]
        return first if name.startswith(prefix) and first in packages else None

    rooms: dict[str, set[str]] = {}
    for name, targets in graph.items():
        own = room(name)
        if own is None:
            continue
        rooms.setdefault(own, set()).update(r for t in targets if (r := room(t)) not in (None, own))
    return {r: {t for t in targets if t in rooms} for r, targets in rooms.items()}


def test_every_room_of_the_server_opens_with_one_line_on_its_job() -> None:
    """A reader who opens a room of server/ learns its job from the first line of its
    `__init__.py`; the line is the whole first paragraph, and fits in one line."""
    wrong: list[str] = []
    for init in sorted(SERVER.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        first = doc.split("\n\n")[0]
        if not first or "\n" in first or not first.endswith("."):
            wrong.append(str(init.relative_to(SRC)))
    assert wrong == []
    assert len(list(SERVER.glob("*/__init__.py"))) >= 5


def test_the_top_of_the_server_holds_only_its_face() -> None:
    """server/ was one flat folder of 47 modules: behaviour lives in the rooms now, and a new
    module goes into the room of its job, not beside `server.py`."""
    top = sorted(p.name for p in SERVER.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_MODULES, f"put these in a room of server/: {top}"


def test_no_two_rooms_of_the_server_import_each_other() -> None:
    """The rooms of server/ import one way (type-only and deferred imports counted): a cycle
    between two rooms means a module sits in the wrong one."""
    rooms = rooms_of(module_graph(), "server")
    assert {"catalog", "schemas", "asking", "serving", "tasks", "handlers"} <= set(rooms)
    assert [sorted(c) for c in cycles(rooms)] == []


def test_the_room_check_sees_rooms_and_their_imports() -> None:
    graph = {
        "server.server": {"server.a.x"},
        "server.a.x": {"server.b.y", "server.context", "server.a.z"},
        "server.a.z": set(),
        "server.b.y": {"server.a"},
        "server.b": set(),
        "client.c": {"server.a.x"},
    }
    rooms = rooms_of(graph, "server")
    assert rooms == {"a": {"b"}, "b": {"a"}}
    assert cycles(rooms) == [{"a", "b"}]


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


def test_modules_are_named_for_what_they_hold_not_for_the_era() -> None:
    """No module is named `stateless.py` (there were four, one per layer, each holding something
    else, and "stateless" also names the HTTP app that keeps no session); the 2026-07-28 era is
    "modern" (the spec's word, basic/versioning), and `protocol/modern.py` holds its rules."""
    named_for_the_old_word = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("stateless.py"))
    assert named_for_the_old_word == []


_SIDES = (
    "the two sides of one OAuth mechanism, the package naming the side: what the client "
    "sends or reads (auth/client), and what the server receiving it checks or sends "
    "(auth/server, or the development authorization server)"
)
_BY_METHOD = (
    "server/handlers/ names each file for the methods it answers, cli/commands/ for its "
    "command; the other module holds something else under the same word"
)
_EACH_SIDE = "the client's and the server's of one public feature, each an import path docs/ give"
#: Module names more than one module may carry: the modules, and why.
SHARED_MODULE_NAMES: dict[str, tuple[set[str], str]] = {
    "app.py": (
        {
            "auth/devserver/app.py",
            "auth/front/app.py",
            "inspector/app.py",
            "transports/deployment/app.py",
        },
        "the same role in four packages: the package's ASGI application",
    ),
    "assertions.py": ({"auth/client/assertions.py", "auth/devserver/assertions.py"}, _SIDES),
    "challenge.py": ({"auth/client/challenge.py", "auth/server/challenge.py"}, _SIDES),
    "dpop.py": ({"auth/client/dpop.py", "auth/server/dpop.py"}, _SIDES),
    "grants.py": ({"auth/client/grants.py", "auth/devserver/grants.py"}, _SIDES),
    "completion.py": (
        {"cli/commands/completion.py", "server/handlers/completion.py"},
        _BY_METHOD,
    ),
    "listen.py": ({"client/listen.py", "server/handlers/listen.py"}, _BY_METHOD),
    "discover.py": ({"cli/commands/discover.py", "client/discover.py"}, _BY_METHOD),
    "skills.py": (
        {"server/catalog/skills.py", "server/handlers/skills.py", "types/skills.py"},
        _BY_METHOD,
    ),
    "tasks.py": ({"server/handlers/tasks.py", "stores/tasks.py"}, _BY_METHOD),
    "registry.py": ({"cli/commands/registry.py", "server/catalog/registry.py"}, _BY_METHOD),
    "tasks_extension.py": (
        {"server/handlers/tasks_extension.py", "types/tasks_extension.py"},
        _BY_METHOD,
    ),
    "tracing.py": ({"client/tracing.py", "server/middleware/tracing.py"}, _EACH_SIDE),
    "session.py": (
        {"protocol/session.py", "server/session.py"},
        "the sans-I/O session, and the server's handle of one client (`Peer`, the type of "
        "ctx.session): to be named apart when the HTTP binding and the handle become one",
    ),
}


def shared_module_names(paths: Iterable[str]) -> dict[str, set[str]]:
    """The module names (`__init__.py` aside) that more than one of `paths` carries."""
    by_name: dict[str, set[str]] = {}
    for path in paths:
        name = path.rpartition("/")[2]
        if name != "__init__.py":
            by_name.setdefault(name, set()).add(path)
    return {name: found for name, found in by_name.items() if len(found) > 1}


def test_no_two_modules_share_a_name_unless_listed() -> None:
    """A module is named for what it holds, so a traceback or an import says which one it
    is: there were five tasks.py, five skills.py, four apps.py and three _http.py, each
    holding something else. Two modules may share a name only as `SHARED_MODULE_NAMES`
    lists, with the reason."""
    shared = shared_module_names(str(p.relative_to(SRC)) for p in SRC.rglob("*.py"))
    unlisted = sorted(
        f"{name}: {sorted(found)}"
        for name, found in shared.items()
        if found != SHARED_MODULE_NAMES.get(name, (set(), ""))[0]
    )
    assert unlisted == [], "name each module for what it holds, or list it with the reason"
    gone = sorted(set(SHARED_MODULE_NAMES) - set(shared))
    assert gone == [], f"no longer shared: drop from SHARED_MODULE_NAMES: {gone}"


def test_the_name_check_sees_a_shared_name() -> None:
    paths = ["client/tasks.py", "proxy/tasks.py", "server/tasks.py", "a/__init__.py", "__init__.py"]
    paths += ["server/skills.py", "server/handlers/skills.py", "stores/tasks.py"]
    assert shared_module_names(paths) == {
        "tasks.py": {"client/tasks.py", "proxy/tasks.py", "server/tasks.py", "stores/tasks.py"},
        "skills.py": {"server/skills.py", "server/handlers/skills.py"},
    }
