"""The one handler table (`mcpkit.server.handlers.HANDLERS`): every request a client may send in
either era has the handler of its era, and no route serves a method its era lacks."""

from __future__ import annotations

from mcpkit.protocol.extensions import TASKS
from mcpkit.server.catalog.extension_methods import SKILLS_METHODS
from mcpkit.server.handlers import HANDLERS, HANDLERS_BY_ERA, tasks, tasks_extension
from mcpkit.types.methods import methods_for

#: Requests the protocol session answers itself, before any handler (basic/lifecycle, ping,
#: server/discover), unless typed middleware has a hook for them (`middleware.protocol_requests`): a
#: route is needed only then.
ANSWERED_BY_THE_SESSION = {"initialize", "ping", "server/discover"}


def client_requests(revision: str) -> set[str]:
    return {
        name
        for name, info in methods_for(revision).items()
        if info.kind == "request" and "client_to_server" in info.direction
    } - ANSWERED_BY_THE_SESSION


def test_every_client_request_of_each_era_has_a_handler_of_its_era() -> None:
    extensions = set(SKILLS_METHODS)
    for revision in ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"):
        missing = {
            m for m in client_requests(revision) | extensions if not HANDLERS_BY_ERA[False].get(m)
        }
        assert missing == set(), revision
    modern = client_requests("2026-07-28") | extensions | set(TASKS.methods)
    assert {m for m in modern if not HANDLERS_BY_ERA[True].get(m)} == set()


def test_no_route_serves_a_method_its_era_lacks() -> None:
    session_era = set().union(*(client_requests(r) for r in ("2025-06-18", "2025-11-25")))
    session_era |= {"initialize", "ping"}
    own_era = client_requests("2026-07-28") | set(TASKS.methods) | {"server/discover"}
    for method, route in HANDLERS.items():
        if method in SKILLS_METHODS:  # an extension of both eras
            continue
        if route.legacy is not None:
            assert method in session_era, method
        if route.modern is not None:
            assert method in own_era, method


def test_the_tasks_extension_takes_the_place_of_the_session_eras_tasks_methods() -> None:
    assert HANDLERS_BY_ERA[False].get("tasks/get") is tasks.get_task
    assert HANDLERS_BY_ERA[True].get("tasks/get") is tasks_extension.get_task
    assert HANDLERS_BY_ERA[False].get("tasks/update") is None
    assert HANDLERS_BY_ERA[True].get("no/such") is None
