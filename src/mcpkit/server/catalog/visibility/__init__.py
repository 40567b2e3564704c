"""Who sees what of a server's components: its rules, each request's, tags, versions, scopes.

A component the rules hide is neither listed nor found, so every rule is applied where lists
are made and components looked up, never inside a handler. The server's own rules
(`server.enable()`/`disable()` by name, tag, version and kind: `rules`, with the labels they
pick by in `tags`, `versions` and `versioned`) are applied to its registries once per change;
a 2025 session's rules (changed in `session_rules`), the per-request rules (`shown_to`,
`every_component`) and a token's scopes (`access`) are judged per request; old names and
removed ones (`renames`) are found or refused the same way, and a handler's own lists
(`own_reads`) are what its client is shown.
"""
