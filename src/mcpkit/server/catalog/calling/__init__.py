"""Calling a component's function: its arguments, what is injected, its limits and budgets.

A tool, resource or prompt is built once (`catalog.tools`, `catalog.resources`,
`catalog.prompts`); what happens each time one is called is this room's: reading a handler's
parameters for the Context and the choices its hints give (`invoke`), the dependencies
injected beside the arguments (`depends`; planned once in `injection_plan`, filled per call
in `injection`), arguments that arrive as JSON text or break the schema (`json_arguments`,
`argument_errors`), a tool's timeout and result budget and where an overflow goes
(`tool_limits`, `result_budget`, `result_store`), a return value made content (`content`), a
tools/call from its arguments to its result (`tool_calls`), a `ToolError`'s result and a
failure kept for the middleware around the call (`tool_errors`, `tool_failures`), and a
question the client cannot answer (`ask_fallback`).
"""
