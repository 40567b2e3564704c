"""A server that attacks the inspector's page, for its browser tests: a tool whose input
schema has a pattern that backtracks for minutes in a browser's regular expressions, and a
resource whose blob claims to be an HTML page (a script, were it opened as one)."""

from __future__ import annotations

from mcpkit import Server

server = Server("hostile")

#: Backtracking engines take 2**n steps to refuse n letters a and one other character; the
#: server checks it with jsonschema_rs, whose engine is linear, so it answers at once.
CATASTROPHIC = "^(a+)+$"


@server.tool(
    input_schema={
        "type": "object",
        "properties": {"word": {"type": "string", "pattern": CATASTROPHIC}},
        "required": ["word"],
    }
)
def shout(word: str) -> str:
    """Says the word louder."""
    return word.upper()


@server.resource("evil://files/page.html", mime_type="text/html")
def page() -> bytes:
    return b"<script>document.title = 'pwned'</script><h1>hello</h1>"
