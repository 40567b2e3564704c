"""Resources: fixed URIs, URI templates, subscriptions and run-time changes."""

from __future__ import annotations

from mcpkit import Server

server = Server("resources-example", version="1.0.0")
NOTES: dict[str, str] = {"welcome": "Hello!", "todo": "Write the docs."}


@server.resource("config://app", mime_type="application/json", title="App settings")
def config() -> dict[str, object]:
    """The application's settings (a dict is sent as JSON text)."""
    return {"theme": "dark", "retries": 3}


@server.resource("notes://{name}", mime_type="text/plain")
def note(name: str) -> str:
    """One note by name: a URI template, so clients list it as a resource template."""
    if name not in NOTES:
        raise KeyError(name)  # -> the client gets "resource not found" (-32002)
    return NOTES[name]


@server.completion(template="notes://{name}", argument="name")
def note_names(prefix: str, context: dict[str, str]) -> list[str]:
    return [n for n in NOTES if n.startswith(prefix)]


@server.tool()
async def write_note(name: str, body: str) -> str:
    """Create or change a note; subscribers of its URI are told it changed."""
    NOTES[name] = body
    await server.notify_resource_updated(f"notes://{name}")
    return f"saved notes://{name}"


@server.tool()
def publish_readme() -> str:
    """Add a resource at run time: clients get notifications/resources/list_changed."""
    server.add_resource(lambda: "# README", "docs://readme", mime_type="text/markdown")
    return "published docs://readme"


if __name__ == "__main__":
    server.run()
