"""Tool search for large catalogs: finding a server's tools by a client's words or pattern.

`server.add_tool_search()` replaces a long tool list with a search tool; what it answers from
is built as the server starts and kept current as tools change, never per query, and a
query is a client's input, so its work is bounded before it is read (`finder`; a regex
runs on RE2 under a budget of its own, `regex_search`).
"""
