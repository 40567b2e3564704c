// Answer a features server's requests with the TypeScript SDK's client and print a summary.
//
// Usage: node ts_features_client.mjs COMMAND [ARG...]
//
// The server command is started as a subprocess with this process's environment. The client
// declares sampling (with tools), elicitation (form and URL) and roots with handlers, and calls
// `ask_llm`, `ask_llm_with_tools`, `sign_up` three times (accepting, declining, then accepting
// without the defaulted `age`), `connect_account`, `connect_required` and `show_roots`, then
// sets the log level to `info` and calls `chatty`. It prints one JSON object (the shape shared
// with official_features_client.py, see README.md) and exits 0; on any failure it prints the
// error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitationCompleteNotificationSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;
const NOTIFICATION_WAIT_MS = 5_000; // notifications may be handled after the call returns
const QUESTION = "What is MCP?";
const TOOL_QUESTION = "MCP";
const MODEL = "interop-llm";
const FORM_ANSWER = { name: "Ada", age: 36, newsletter: true, color: "green", size: "l" };
// The third form leaves out `age`, whose default the server applies.
const { age: _age, ...FORM_ANSWER_WITHOUT_AGE } = FORM_ANSWER;
const ROOTS = [
  { uri: "file:///interop/project", name: "project" },
  { uri: "file:///interop/scratch" },
];
const LOG_LEVEL = "info";

const firstText = (result) => result.content?.find((block) => block.type === "text")?.text ?? null;

// A features tool's JSON report, or its text when it is not JSON (an error, say).
function toolJson(result) {
  const text = firstText(result);
  return result.isError || text === null ? { error: text } : JSON.parse(text);
}

// Wait, bounded, until `done()`; the test judges whatever arrived by then.
async function waitUntil(done) {
  const deadline = Date.now() + NOTIFICATION_WAIT_MS;
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A sampling content block in the peers' shared summary shape.
function blockSummary(block) {
  if (block.type === "tool_use") return ["tool_use", block.id, block.name, block.input];
  if (block.type === "tool_result") return ["tool_result", block.toolUseId, block.content.map((c) => c.text ?? null)];
  return [block.type, block.text ?? null];
}

const blocks = (content) => (Array.isArray(content) ? content : [content]);

// Call the offered tool first; once its result is in, answer with text.
function sampleWithTools(params, seen) {
  const messages = params.messages.map((m) => [m.role, blocks(m.content).map(blockSummary)]);
  seen.samplingTools.push({
    tools: params.tools.map((t) => [t.name, t.inputSchema ?? null]),
    tool_choice: params.toolChoice?.mode ?? null,
    messages,
  });
  const last = messages.at(-1)[1];
  if (last.length > 0 && last[0][0] === "tool_result") {
    return {
      role: "assistant",
      content: { type: "text", text: `final: ${last[0][2][0]}` },
      model: MODEL,
      stopReason: "endTurn",
    };
  }
  const term = messages[0][1][0][1];
  return {
    role: "assistant",
    content: [
      { type: "text", text: "Let me look that up." },
      { type: "tool_use", id: "call-1", name: "lookup", input: { term } },
    ],
    model: MODEL,
    stopReason: "toolUse",
  };
}

function recordingClient() {
  const seen = { sampling: [], samplingTools: [], forms: [], urls: [], completed: [], logs: [] };
  const client = new Client(
    { name: "ts-features-client", version: "1.0.0" },
    { capabilities: { sampling: { tools: {} }, elicitation: { form: {}, url: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async ({ params }) => {
    if (params.tools?.length) return sampleWithTools(params, seen);
    seen.sampling.push({
      messages: params.messages.map((m) => [m.role, m.content.text ?? null]),
      max_tokens: params.maxTokens ?? null,
      system_prompt: params.systemPrompt ?? null,
    });
    const question = params.messages.at(-1).content.text;
    return {
      role: "assistant",
      content: { type: "text", text: `answer to ${question}` },
      model: MODEL,
      stopReason: "endTurn",
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async ({ params }) => {
    if (params.mode === "url") {
      seen.urls.push({
        mode: params.mode,
        message: params.message,
        url: params.url,
        elicitation_id: params.elicitationId ?? null,
      });
      return { action: "accept" };
    }
    seen.forms.push({
      mode: params.mode ?? null,
      message: params.message,
      requested_schema: params.requestedSchema,
    });
    // The first form is filled in, the second declined, the third filled in without age.
    if (seen.forms.length === 1) return { action: "accept", content: { ...FORM_ANSWER } };
    if (seen.forms.length === 2) return { action: "decline" };
    return { action: "accept", content: { ...FORM_ANSWER_WITHOUT_AGE } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: ROOTS }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
    seen.logs.push([params.level, params.logger ?? null, params.data]);
  });
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, ({ params }) => {
    seen.completed.push(params.elicitationId);
  });
  return { client, seen };
}

async function summarize(command) {
  const transport = new StdioClientTransport({
    command: command[0],
    args: command.slice(1),
    env: { ...process.env },
  });
  // The client tells the negotiated revision only to transports that want it (for HTTP
  // headers); listening here is how it becomes visible over stdio.
  let protocolVersion = null;
  transport.setProtocolVersion = (version) => {
    protocolVersion = version;
  };
  const { client, seen } = recordingClient();
  const options = { timeout: REQUEST_TIMEOUT_MS };
  const call = async (name, args = {}) => client.callTool({ name, arguments: args }, undefined, options);
  await client.connect(transport, options);
  try {
    const info = client.getServerVersion();
    const sampled = toolJson(await call("ask_llm", { question: QUESTION }));
    const withTools = toolJson(await call("ask_llm_with_tools", { question: TOOL_QUESTION }));
    const accepted = toolJson(await call("sign_up"));
    const declined = toolJson(await call("sign_up"));
    const defaulted = toolJson(await call("sign_up"));
    const connected = toolJson(await call("connect_account"));
    await waitUntil(() => seen.completed.length >= 1);
    const required = await call("connect_required").then(
      (result) => ({ result }),
      (error) => ({ code: error.code ?? null, data: error.data ?? null }),
    );
    const roots = toolJson(await call("show_roots"));
    await client.setLoggingLevel(LOG_LEVEL, options);
    const chatty = firstText(await call("chatty"));
    await waitUntil(() => seen.logs.length >= 3);
    return {
      client: "ts",
      protocol_version: protocolVersion,
      server_name: info?.name ?? null,
      logging_capability: client.getServerCapabilities()?.logging !== undefined,
      sampling: { requests: seen.sampling, result: sampled },
      sampling_tools: { requests: seen.samplingTools, result: withTools },
      form: { requests: seen.forms, accepted, declined, defaulted },
      url: { requests: seen.urls, result: connected, completed: seen.completed, required_error: required },
      roots,
      logs: seen.logs,
      chatty,
    };
  } finally {
    await client.close();
  }
}

await runPeerClient("ts_features_client.mjs", summarize, OVERALL_TIMEOUT_MS);
