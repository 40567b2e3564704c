"""The connection limits (header_timeout, body_timeout, max_connections) read uvicorn's
protocol internals, all in mcpkit.transports.deployment.uvicorn_protocol: the installed uvicorn
has what they read, and a uvicorn that changed shape fails when the server starts, naming
what is missing, instead of serving with the limits silently gone."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest
from uvicorn.protocols.http import h11_impl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mcpkit import Server
from mcpkit.transports.deployment import capacity
from mcpkit.transports.deployment.connection_limits import guarded
from mcpkit.transports.deployment.uvicorn_protocol import JoinedWrites, UvicornShapeChanged, joined

SETTINGS: dict[str, Any] = {"header_timeout": 1.0, "body_timeout": 1.0, "max_connections": 8}


@pytest.mark.parametrize("protocol", [HttpToolsProtocol, H11Protocol])
def test_the_installed_uvicorn_has_what_the_limits_read(protocol: type[Any]) -> None:
    cls = guarded(protocol, **SETTINGS)
    assert issubclass(cls, protocol)
    assert cls.header_timeout == 1.0  # type: ignore[attr-defined]


def test_a_renamed_callback_fails_at_start() -> None:
    """uvicorn renaming the callback the guard hooks would leave every connection busy for
    ever in the guard's eyes: the check refuses it before anything is served."""

    class Renamed(H11Protocol):
        on_response_complete = None  # type: ignore[assignment]

    with pytest.raises(UvicornShapeChanged, match=r"Renamed\.on_response_complete\(\)"):
        guarded(Renamed, **SETTINGS)


class _Elsewhere(asyncio.Protocol):
    """A protocol of another shape: the callbacks, none of uvicorn's attributes."""

    def __init__(self) -> None:
        self.conn = None

    def on_response_complete(self) -> None: ...


def test_missing_attributes_and_cycle_are_named() -> None:
    with pytest.raises(UvicornShapeChanged) as raised:
        guarded(_Elsewhere, **SETTINGS)
    message = str(raised.value)
    for name in ("connections", "cycle", "transport", "loop", "client"):
        assert f"_Elsewhere.{name}" in message
    assert f"{__name__}.RequestResponseCycle" in message
    assert "uvicorn " in message and "header_timeout" in message


def test_a_uvicorn_installed_without_its_source_is_named_so() -> None:
    """The check reads uvicorn's source: where there is none, it says that, not that uvicorn
    changed."""
    made = type("Made", (H11Protocol,), {"__module__": "not_a_loaded_module"})
    with pytest.raises(UvicornShapeChanged, match=r"the source of not_a_loaded_module"):
        guarded(made, **SETTINGS)


class _CycleWithoutMoreBody:
    """A request cycle of a uvicorn that renamed `more_body`."""

    def __init__(self) -> None:
        self.disconnected = False
        self.message_event = asyncio.Event()
        self.response_started = False
        self.response_complete = False
        self.body_pending = True
        self.scope: dict[str, object] = {}
        self.transport = None

    async def send(self, message: object) -> None: ...


def test_a_server_started_on_a_changed_uvicorn_fails_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`mcpkit run` and `server.run()` build the protocol with `uvicorn_protocol()` before
    uvicorn starts: a request cycle without `more_body` stops them there, and only what is
    missing is named."""
    monkeypatch.setattr(h11_impl, "RequestResponseCycle", _CycleWithoutMoreBody)
    app = Server("demo").http_app()
    with pytest.raises(UvicornShapeChanged) as raised:
        app.uvicorn_protocol("h11")
    missing = str(raised.value).partition(" lacks: ")[2].partition(". ")[0]
    assert missing == "RequestResponseCycle.more_body"


def test_the_capacity_module_keeps_no_uvicorn_internals() -> None:
    """capacity.py holds the settings and their checks; only the connection limits of
    uvicorn_protocol read uvicorn's internals, and its joined writes wrap uvicorn's protocol
    from outside."""
    sources = [Path(str(capacity.__file__)).read_text()]
    sources += [inspect.getsource(JoinedWrites), inspect.getsource(joined)]
    for source in sources:
        assert ".cycle" not in source and "more_body" not in source
