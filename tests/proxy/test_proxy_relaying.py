"""The proxy relays one way (issue 40): every request goes upstream through `Link.forward`
on one kind of link, whether a 2025 session, a 2026-07-28 request or a mounted parent's
request is served, and only the link sends on an upstream session."""

from __future__ import annotations

import ast
from pathlib import Path

import mcpkit.proxy

PROXY = Path(mcpkit.proxy.__file__).parent
#: Where `.request(...)` may be called: the link's one send upstream, and the 2025 session
#: asking its client what the upstream asked.
SENDERS = {"upstream_link.py", "downstream.py"}


def _trees() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text()) for path in sorted(PROXY.glob("*.py"))}


def test_there_is_one_kind_of_link() -> None:
    """No subclass of `Link` per era: who a link serves is its owner and holder."""
    subclasses = [
        f"{name}: {node.name}"
        for name, tree in _trees().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id.endswith("Link") for base in node.bases)
    ]
    assert subclasses == []


def test_only_the_link_sends_upstream() -> None:
    """The pool's and the mounted proxy's own requests (lists, subscriptions, the log level)
    go through `Link.send` too, not a `request(...)` of their own on its connection."""
    calls = [
        f"{name}:{node.lineno}"
        for name, tree in _trees().items()
        if name not in SENDERS
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "request"
    ]
    assert calls == []
