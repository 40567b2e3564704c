"""McpHttpApp holds its parts as collaborators, each built with its own arguments: no part is a
mixin whose attributes the app sets (issue 40, "Objects hold collaborators")."""

from __future__ import annotations

import inspect
from pathlib import Path

from mcpkit import Server
from mcpkit.transports.deployment import app as app_module
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.http.get_delete import GetDeleteRequests
from mcpkit.transports.http.hosting import AppSessions
from mcpkit.transports.http.post import PostRequests

PARTS = (PostRequests, GetDeleteRequests, AppSessions)


def test_the_app_is_no_chain_of_mixins() -> None:
    assert McpHttpApp.__mro__ == (McpHttpApp, object)
    for part in PARTS:
        assert part.__mro__ == (part, object), part
        assert "__init__" in vars(part), f"{part.__name__} is built with its own arguments"


def test_the_app_holds_one_of_each_part_and_they_share_its_sessions() -> None:
    app = Server("s").http_app()
    held = [value for value in vars(app).values() if isinstance(value, PARTS)]
    assert sorted(type(part).__name__ for part in held) == sorted(p.__name__ for p in PARTS)
    for part in held:
        hosting = part if isinstance(part, AppSessions) else part.hosting
        assert hosting.sessions is app.sessions


def test_no_part_of_the_app_has_attributes_set_by_another() -> None:
    binding = Path(inspect.getfile(AppSessions)).parent
    paths = [Path(inspect.getfile(app_module))]
    paths += [binding / name for name in ("post.py", "get_delete.py", "hosting.py")]
    for path in paths:
        text = path.read_text()
        assert "(which sets" not in text and "set by McpHttpApp" not in text, path.name
