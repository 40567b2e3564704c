"""The adapters of scripts/agent_probes.py, one per framework; each imports its framework
only when probed. What a call returns is read the way that framework's agent loop reads it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from agent_probes import Adapter, Outcome, probe, short


def text_of(value: Any) -> str:
    """A tool's output as text, whichever of the usual shapes it came in."""
    if isinstance(value, str):
        return short(value)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return short(value["text"])
    if isinstance(value, list | tuple):
        return " | ".join(text_of(item) for item in value)
    text = getattr(value, "text", None)
    return short(text if isinstance(text, str) else value)


class ToolList(Adapter):
    """Tools held in a list, each with a `name`; `schema_of` and `invoke` say the rest."""

    def __init__(self, tools: list[Any]) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.names = list(self.tools)

    def schema(self, name: str) -> Any:
        return self.schema_of(self.tools[name])

    def schema_of(self, tool: Any) -> Any:
        raise NotImplementedError

    async def call(self, name: str, arguments: dict[str, Any]) -> Outcome:
        return await self.invoke(self.tools[name], arguments)

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        raise NotImplementedError


# openai-agents: MCPUtil makes FunctionTools; the Runner calls on_invoke_tool(context, json)
# and sends what it returns as the function call's output.
class OpenAIAgents(ToolList):
    def schema_of(self, tool: Any) -> Any:
        return {"strict": tool.strict_json_schema, **tool.params_json_schema}

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        from agents.tool_context import ToolContext

        raw = json.dumps(arguments)
        context = ToolContext(None, tool_name=tool.name, tool_call_id="call_1", tool_arguments=raw)
        return Outcome("ok", text_of(await tool.on_invoke_tool(context, raw)))


@probe("openai-agents")
@contextlib.asynccontextmanager
async def openai_agents(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from agents import Agent, RunContextWrapper
    from agents.mcp import MCPServerStdio, MCPServerStreamableHttp, MCPUtil

    server: Any = (
        MCPServerStdio(params={"command": target["command"], "args": target["args"]})
        if "command" in target
        else MCPServerStreamableHttp(params={"url": target["url"]})
    )
    async with server:
        tools = await MCPUtil.get_function_tools(
            server, True, RunContextWrapper(None), Agent(name="probe")
        )
        yield OpenAIAgents(tools)


# pydantic-ai: MCPToolset (over a FastMCP client); the agent calls toolset.call_tool, and a
# ModelRetry it raises goes back to the model as a retry prompt.
class PydanticAI(Adapter):
    def __init__(self, toolset: Any, tools: dict[str, Any], ctx: Any) -> None:
        self.toolset, self.tools, self.ctx = toolset, tools, ctx
        self.names = list(tools)

    def schema(self, name: str) -> Any:
        return self.tools[name].tool_def.parameters_json_schema

    async def call(self, name: str, arguments: dict[str, Any]) -> Outcome:
        tool = self.tools[name]
        validated = tool.args_validator.validate_python(arguments)
        return Outcome("ok", text_of(await self.toolset.call_tool(name, validated, self.ctx, tool)))


@probe("pydantic-ai")
@contextlib.asynccontextmanager
async def pydantic_ai(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from pydantic_ai import RunContext
    from pydantic_ai.mcp import MCPToolset
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.usage import RunUsage

    if "command" in target:
        from fastmcp.client.transports import StdioTransport

        toolset: Any = MCPToolset(StdioTransport(target["command"], target["args"]))
    else:
        toolset = MCPToolset(target["url"])
    ctx: Any = RunContext(deps=None, model=TestModel(), usage=RunUsage())
    async with toolset:
        yield PydanticAI(toolset, await toolset.get_tools(ctx), ctx)


def stdio_parameters(target: dict[str, Any]) -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(command=target["command"], args=target["args"])


# langchain-mcp-adapters: StructuredTools; LangGraph's ToolNode invokes one with the model's
# tool call and sends the ToolMessage it returns (status "error" for an isError result).
class LangChain(ToolList):
    def schema_of(self, tool: Any) -> Any:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return convert_to_openai_tool(tool)["function"]["parameters"]

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        call = {"type": "tool_call", "name": tool.name, "args": arguments, "id": "call_1"}
        message = await tool.ainvoke(call)
        flagged = getattr(message, "status", "success") == "error"
        return Outcome("flagged" if flagged else "ok", text_of(message.content))


@probe("langchain-mcp-adapters")
@contextlib.asynccontextmanager
async def langchain_mcp_adapters(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from langchain_mcp_adapters.client import MultiServerMCPClient

    connection: dict[str, Any] = (
        {"transport": "stdio", "command": target["command"], "args": target["args"]}
        if "command" in target
        else {"transport": "streamable_http", "url": target["url"]}
    )
    client = MultiServerMCPClient({"probe": connection})
    yield LangChain(await client.get_tools())


# mcp-use: its LangChainAdapter makes LangChain tools (args_schema a pydantic model built from
# the JSON Schema); its MCPAgent runs them as LangChain does.
@probe("mcp-use")
@contextlib.asynccontextmanager
async def mcp_use(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from mcp_use import MCPClient
    from mcp_use.agents.adapters import LangChainAdapter

    client = MCPClient.from_dict({"mcpServers": {"probe": dict(target)}})
    try:
        yield LangChain(await LangChainAdapter().create_tools(client))
    finally:
        await client.close_all_sessions()


# llama-index: McpToolSpec makes FunctionTools (fn_schema a pydantic model built from the JSON
# Schema); the agent workflow awaits tool.acall(**arguments) and reads ToolOutput.is_error.
class LlamaIndex(ToolList):
    def __init__(self, tools: list[Any]) -> None:
        self.tools = {tool.metadata.name: tool for tool in tools}
        self.names = list(self.tools)

    def schema_of(self, tool: Any) -> Any:
        return tool.metadata.get_parameters_dict()

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        output = await tool.acall(**arguments)
        return Outcome("flagged" if output.is_error else "ok", short(output.content))


@probe("llama-index")
@contextlib.asynccontextmanager
async def llama_index(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from llama_index.tools.mcp import BasicMCPClient, McpToolSpec

    client = (
        BasicMCPClient(target["command"], args=target["args"])
        if "command" in target
        else BasicMCPClient(target["url"])
    )
    yield LlamaIndex(await McpToolSpec(client=client).to_tool_list_async())


# smolagents: MCPClient (over mcpadapt) makes Tools; the agent calls tool(**arguments), and an
# exception becomes an AgentToolExecutionError the model is shown.
class Smolagents(ToolList):
    def schema_of(self, tool: Any) -> Any:
        from smolagents.models import get_tool_json_schema

        return get_tool_json_schema(tool)["function"]["parameters"]

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        result = await asyncio.to_thread(lambda: tool(**arguments, sanitize_inputs_outputs=True))
        return Outcome("ok", text_of(result))


@probe("smolagents")
@contextlib.asynccontextmanager
async def smolagents(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from smolagents import MCPClient

    parameters: Any = (
        stdio_parameters(target)
        if "command" in target
        else {"url": target["url"], "transport": "streamable-http"}
    )
    client = await asyncio.to_thread(MCPClient, parameters, structured_output=True)
    try:
        yield Smolagents(client.get_tools())
    finally:
        await asyncio.to_thread(client.disconnect)


# crewai-tools: MCPServerAdapter (over mcpadapt) makes CrewAI BaseTools; the crew's executor
# calls tool.run(**arguments) and shows the model what it returns or the exception's text.
class CrewAI(ToolList):
    def schema_of(self, tool: Any) -> Any:
        return tool.args_schema.model_json_schema()

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        return Outcome("ok", text_of(await asyncio.to_thread(lambda: tool.run(**arguments))))


@probe("crewai")
@contextlib.asynccontextmanager
async def crewai(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from crewai_tools import MCPServerAdapter

    parameters: Any = (
        stdio_parameters(target)
        if "command" in target
        else {"url": target["url"], "transport": "streamable-http"}
    )
    adapter = await asyncio.to_thread(MCPServerAdapter, parameters)
    try:
        yield CrewAI(list(adapter.tools))
    finally:
        await asyncio.to_thread(adapter.stop)


# autogen: mcp_server_tools makes McpToolAdapters; AssistantAgent calls run_json and turns an
# exception into a FunctionExecutionResult with is_error=True.
class AutoGen(ToolList):
    def schema_of(self, tool: Any) -> Any:
        return tool.schema.get("parameters")

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        from autogen_core import CancellationToken

        result = await tool.run_json(arguments, CancellationToken(), call_id="call_1")
        return Outcome("ok", short(tool.return_value_as_string(result)))


@probe("autogen")
@contextlib.asynccontextmanager
async def autogen(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from autogen_ext.tools.mcp import (
        StdioServerParams,
        StreamableHttpServerParams,
        mcp_server_tools,
    )

    parameters: Any = (
        StdioServerParams(command=target["command"], args=target["args"], read_timeout_seconds=30)
        if "command" in target
        else StreamableHttpServerParams(url=target["url"])
    )
    yield AutoGen(await mcp_server_tools(parameters))


# agno: MCPTools makes Functions; the agent runs a FunctionCall and sends its result on.
class Agno(Adapter):
    def __init__(self, functions: dict[str, Any]) -> None:
        self.functions = functions
        self.names = list(functions)

    def schema(self, name: str) -> Any:
        return self.functions[name].parameters

    async def call(self, name: str, arguments: dict[str, Any]) -> Outcome:
        from agno.tools.function import FunctionCall

        call = FunctionCall(function=self.functions[name], arguments=arguments, call_id="call_1")
        executed = await call.aexecute()
        if executed.status != "success":
            return Outcome("flagged", short(f"{executed.status}: {call.error}"))
        return Outcome("ok", text_of(getattr(executed.result, "content", executed.result)))


@probe("agno")
@contextlib.asynccontextmanager
async def agno(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from agno.tools.mcp import MCPTools

    tools = (
        MCPTools(command=" ".join([target["command"], *target["args"]]), transport="stdio")
        if "command" in target
        else MCPTools(url=target["url"], transport="streamable-http")
    )
    async with tools:
        yield Agno(dict(tools.functions))


# strands: MCPClient lists MCPAgentTools; the agent's tool executor calls call_tool_async and
# sends a ToolResult whose status is "error" for an isError result.
class Strands(Adapter):
    def __init__(self, client: Any, tools: list[Any]) -> None:
        self.client = client
        self.tools = {tool.tool_name: tool for tool in tools}
        self.names = list(self.tools)

    def schema(self, name: str) -> Any:
        return self.tools[name].tool_spec["inputSchema"]["json"]

    async def call(self, name: str, arguments: dict[str, Any]) -> Outcome:
        result = await self.client.call_tool_async("call_1", name, arguments)
        texts = [block.get("text", block) for block in result["content"]]
        return Outcome("flagged" if result["status"] == "error" else "ok", short(texts))


@probe("strands")
@contextlib.asynccontextmanager
async def strands(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from strands.tools.mcp import MCPClient

    if "command" in target:
        from mcp.client.stdio import stdio_client

        client = MCPClient(lambda: stdio_client(stdio_parameters(target)))
    else:
        from mcp.client import streamable_http

        # `mcp` 2 renamed the function; strands takes either SDK.
        connect = getattr(streamable_http, "streamable_http_client", None)
        connect = connect or streamable_http.streamablehttp_client
        client = MCPClient(lambda: connect(target["url"]))
    await asyncio.to_thread(client.start)
    try:
        yield Strands(client, list(await asyncio.to_thread(client.list_tools_sync)))
    finally:
        await asyncio.to_thread(client.stop, None, None, None)


# google-adk: McpToolset makes McpTools; the LLM flow calls run_async(args, tool_context) and
# sends the dict it returns (the CallToolResult, isError included) as the function response.
class GoogleADK(ToolList):
    def __init__(self, tools: list[Any], tool_context: Any) -> None:
        super().__init__(tools)
        self.tool_context = tool_context

    def schema_of(self, tool: Any) -> Any:
        return tool._get_declaration().model_dump(exclude_none=True, mode="json")

    async def invoke(self, tool: Any, arguments: dict[str, Any]) -> Outcome:
        response = await tool.run_async(args=arguments, tool_context=self.tool_context)
        flagged = isinstance(response, dict) and bool(response.get("isError"))
        return Outcome("flagged" if flagged else "ok", short(json.dumps(response)))


@probe("google-adk")
@contextlib.asynccontextmanager
async def google_adk(target: dict[str, Any]) -> AsyncIterator[Adapter]:
    from google.adk.agents import LlmAgent
    from google.adk.agents.invocation_context import InvocationContext
    from google.adk.sessions import InMemorySessionService
    from google.adk.tools.mcp_tool import (
        McpToolset,
        StdioConnectionParams,
        StreamableHTTPConnectionParams,
    )
    from google.adk.tools.tool_context import ToolContext

    connection: Any = (
        StdioConnectionParams(server_params=stdio_parameters(target), timeout=30)
        if "command" in target
        else StreamableHTTPConnectionParams(url=target["url"])
    )
    sessions = InMemorySessionService()
    session = await sessions.create_session(app_name="probe", user_id="probe")
    invocation = InvocationContext(
        session_service=sessions,
        invocation_id="probe",
        agent=LlmAgent(name="probe"),
        session=session,
    )
    toolset = McpToolset(connection_params=connection)
    try:
        yield GoogleADK(await toolset.get_tools(), ToolContext(invocation))
    finally:
        await toolset.close()
