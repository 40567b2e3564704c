"""The client's structure (issue 40): `Client` holds its call paths instead of inheriting them,
its public names stay what users know, and the client package has no import cycle, type-only
imports counted."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from mcpkit.client.client import Client

CLIENT_PACKAGE = Path(inspect.getfile(Client)).parent

#: The public names of a `Client` (methods, properties and settings), as users know them.
PUBLIC = frozenset(
    """aclose add_middleware call_tool call_tool_as_task cancel_task capabilities client_info
    complete connect connection discovered fetch_card forget_task get_prompt get_skill get_task
    init_timeout initialize_result instructions list_prompts list_prompts_page
    list_resource_templates list_resource_templates_page list_resources list_resources_page
    list_skills list_skills_page list_tasks list_tasks_page list_tools list_tools_page
    load_skill max_input_rounds middleware notify on_log on_notification ping protocol
    protocol_version read_directory read_resource request requested_version
    send_roots_list_changed server_capabilities server_extension server_info servers session
    session_id set_logging_level modern_params subscribe target task_handle task_result
    timeout track_task unsubscribe""".split()
)


def test_client_inherits_no_call_groups() -> None:
    """Its calls are collaborators it holds, not base classes in other files."""
    assert Client.__mro__ == (Client, object)


def test_public_names_stay() -> None:
    client = Client(["python", "server.py"])
    assert {name for name in dir(client) if not name.startswith("_")} == PUBLIC
    for name in PUBLIC:  # each method reaches the collaborator that serves it
        if inspect.isroutine(inspect.getattr_static(Client, name, None)):
            assert callable(getattr(client, name)), name


def test_served_methods_keep_their_signature_and_docstring() -> None:
    client = Client(["python", "server.py"])
    call_tool = inspect.signature(client.call_tool)
    assert list(call_tool.parameters) == [
        "name",
        "arguments",
        "progress",
        "timeout",
        "meta",
        "task",
    ]
    assert "is_error=True" in (client.call_tool.__doc__ or "")
    # On the class too, as `help(Client)` and IDEs read it.
    assert "ttl" in (Client.call_tool_as_task.__doc__ or "")
    assert "max_pages" in inspect.signature(Client.list_tools).parameters


def _imports(path: Path) -> set[str]:
    """The client modules `path` imports, at any depth, `if TYPE_CHECKING:` ones included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            module = name.removeprefix("mcpkit.client.")
            if name.startswith("mcpkit.client.") and (CLIENT_PACKAGE / f"{module}.py").exists():
                found.add(module)
    return found


def test_no_import_cycle_in_the_client_package() -> None:
    graph = {p.stem: _imports(p) for p in CLIENT_PACKAGE.glob("*.py") if p.stem != "__init__"}

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        todo = [*graph[start]]
        while todo:
            module = todo.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))
        return False

    assert [module for module in sorted(graph) if reaches(module, module)] == []
