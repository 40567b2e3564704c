// An MCP server built with the TypeScript SDK whose tools ask the client: served over stdio.
//
// It offers the features surface every peer features server shares (see README.md):
// `ask_llm` (sampling), `ask_llm_with_tools` (sampling with a tool, SEP-1577), `sign_up` (form
// elicitation), `connect_account` (URL elicitation and its completion notification),
// `connect_required` (the -32042 error), `show_roots` (roots) and `chatty` (log messages).

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { UrlElicitationRequiredError } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

const CONNECT_URL = "https://example.com/connect?session=interop";
const ELICITATION_ID = "acct-1";
const REQUIRED_ELICITATION_ID = "acct-2";

const mcp = new McpServer(
  { name: "ts-features", version: "1.0.0" },
  // The SDK answers logging/setLevel and filters log messages only when `logging` is declared.
  { instructions: "interop features server", capabilities: { logging: {} } },
);
const server = mcp.server;

const text = (value) => ({ content: [{ type: "text", text: value }] });

mcp.registerTool(
  "ask_llm",
  { description: "Ask the client's LLM, and report what it answered as JSON.", inputSchema: { question: z.string() } },
  async ({ question }, extra) => {
    const result = await server.createMessage(
      {
        messages: [{ role: "user", content: { type: "text", text: question } }],
        maxTokens: 64,
        systemPrompt: "Answer briefly.",
      },
      { relatedRequestId: extra.requestId },
    );
    return text(
      JSON.stringify({
        role: result.role,
        model: result.model,
        text: result.content?.text ?? null,
        stop_reason: result.stopReason ?? null,
      }),
    );
  },
);

const LOOKUP = {
  name: "lookup",
  description: "Look a term up.",
  inputSchema: { type: "object", properties: { term: { type: "string" } }, required: ["term"] },
};

// A sampling message's or result's content, one block or many, as an array.
const blocks = (content) => (Array.isArray(content) ? content : [content]);

// A sampling content block, in the peers' shared summary shape.
function summary(block) {
  if (block.type === "tool_use") return ["tool_use", block.id, block.name, block.input];
  if (block.type === "tool_result") return ["tool_result", block.toolUseId, block.content.map((c) => c.text ?? null)];
  return [block.type, block.text ?? null];
}

mcp.registerTool(
  "ask_llm_with_tools",
  {
    description: "Sample with a tool the LLM may call (SEP-1577): answer its call, sample again, and report both.",
    inputSchema: { question: z.string() },
  },
  async ({ question }, extra) => {
    const options = { relatedRequestId: extra.requestId };
    const ask = { maxTokens: 64, tools: [LOOKUP], toolChoice: { mode: "auto" } };
    const user = { role: "user", content: { type: "text", text: question } };
    const first = await server.createMessage({ ...ask, messages: [user] }, options);
    const results = blocks(first.content)
      .filter((block) => block.type === "tool_use")
      .map((call) => ({
        type: "tool_result",
        toolUseId: call.id,
        content: [{ type: "text", text: `${call.input.term} is a protocol` }],
      }));
    const messages = [user, { role: "assistant", content: blocks(first.content) }, { role: "user", content: results }];
    const final = await server.createMessage({ ...ask, messages }, options);
    const report = (result) => ({ stop_reason: result.stopReason ?? null, content: blocks(result.content).map(summary) });
    return text(JSON.stringify({ first: report(first), final: report(final) }));
  },
);

const SIGN_UP_SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", description: "Your name" },
    newsletter: { type: "boolean" },
    color: { type: "string", enum: ["red", "green", "blue"] },
    size: {
      type: "string",
      oneOf: [
        { const: "s", title: "Small" },
        { const: "m", title: "Medium" },
        { const: "l", title: "Large" },
      ],
    },
    age: { type: "integer", minimum: 0, maximum: 150, default: 30 },
  },
  required: ["name", "newsletter", "color", "size"],
};

mcp.registerTool(
  "sign_up",
  { description: "Ask the user for a form, and report the action and the data as JSON." },
  async (extra) => {
    const answer = await server.elicitInput(
      { mode: "form", message: "Tell us about yourself", requestedSchema: SIGN_UP_SCHEMA },
      { relatedRequestId: extra.requestId },
    );
    // The SDK checked accepted content against the schema; defaults are the server's to apply.
    const data = answer.action === "accept" ? { age: 30, ...answer.content } : null;
    return text(JSON.stringify({ action: answer.action, data }));
  },
);

mcp.registerTool(
  "connect_account",
  { description: "Send the user to a URL, then tell the client the interaction finished." },
  async (extra) => {
    const result = await server.elicitInput(
      { mode: "url", message: "Connect your account", url: CONNECT_URL, elicitationId: ELICITATION_ID },
      { relatedRequestId: extra.requestId },
    );
    await server.createElicitationCompletionNotifier(ELICITATION_ID, { relatedRequestId: extra.requestId })();
    return text(JSON.stringify({ action: result.action }));
  },
);

mcp.registerTool(
  "connect_required",
  { description: "Answer -32042: the client must complete a URL elicitation first." },
  async () => {
    throw new UrlElicitationRequiredError([
      { mode: "url", message: "Connect your account first", url: CONNECT_URL, elicitationId: REQUIRED_ELICITATION_ID },
    ]);
  },
);

mcp.registerTool("show_roots", { description: "The client's roots, as JSON." }, async (extra) => {
  const { roots } = await server.listRoots(undefined, { relatedRequestId: extra.requestId });
  return text(JSON.stringify(roots.map((root) => ({ uri: root.uri, name: root.name ?? null }))));
});

mcp.registerTool(
  "chatty",
  { description: "Log one message at each of four levels; the client's level filters them." },
  async (extra) => {
    const log = (level, data) => mcp.sendLoggingMessage({ level, logger: "interop", data }, extra.sessionId);
    await log("debug", "debug detail");
    await log("info", "starting");
    await log("warning", { disk: "low", free_mb: 12 });
    await log("error", "failed step");
    return text("logged");
  },
);

await mcp.connect(new StdioServerTransport());
