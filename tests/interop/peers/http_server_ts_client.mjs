// Use an mcpkit server serving examples/everything.py over Streamable HTTP with the TypeScript
// SDK's StreamableHTTPClientTransport, and print a summary.
//
// Usage: node http_server_ts_client.mjs URL
//
// The client declares sampling, elicitation (form and URL) and roots with handlers, then lists
// tools, calls `add` (structured output, a log message) and `slow` with a progress token
// (its steps are 0.1 s apart, so none shares a read with the response: see typescript-sdk
// issue #2580), reads two resources, gets a prompt, and calls
// `ask_model` (sampling), `sign_up` (form elicitation), `connect_account` (URL elicitation)
// and `roots`. Each answer to a server's request goes back on a POST of its own. It prints one
// JSON object (the shape shared with the official client in test_http_interop_server.py) and
// exits 0; on any failure it prints the error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
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
const FORM_ANSWER = { name: "Ada", age: 36, color: "red", size: "l", toppings: ["ham"], newsletter: true };
const ROOTS = [{ uri: "file:///interop/project", name: "project" }];

const firstText = (result) => result.content?.find((block) => block.type === "text")?.text ?? null;

// Wait, bounded, until `done()`; the test judges whatever arrived by then.
async function waitUntil(done) {
  const deadline = Date.now() + NOTIFICATION_WAIT_MS;
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function recordingClient() {
  const seen = { sampling: [], forms: [], urls: [], completed: [], logs: [] };
  const client = new Client(
    { name: "ts-http-client", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async ({ params }) => {
    seen.sampling.push(params.messages.map((m) => [m.role, m.content.text ?? null]));
    return {
      role: "assistant",
      content: { type: "text", text: `answer to ${params.messages.at(-1).content.text}` },
      model: "interop-llm",
      stopReason: "endTurn",
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async ({ params }) => {
    if (params.mode === "url") {
      seen.urls.push({ url: params.url, elicitation_id: params.elicitationId ?? null });
      return { action: "accept" };
    }
    seen.forms.push(Object.keys(params.requestedSchema.properties).sort());
    return { action: "accept", content: { ...FORM_ANSWER } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: ROOTS }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, ({ params }) => {
    seen.logs.push([params.level, params.data]);
  });
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, ({ params }) => {
    seen.completed.push(params.elicitationId);
  });
  return { client, seen };
}

async function summarize([url]) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const { client, seen } = recordingClient();
  const options = { timeout: REQUEST_TIMEOUT_MS };
  const call = (name, args = {}, extra = {}) =>
    client.callTool({ name, arguments: args }, undefined, { ...options, ...extra });
  await client.connect(transport, options);
  try {
    const info = client.getServerVersion();
    const tools = (await client.listTools(undefined, options)).tools.map((t) => t.name).sort();
    const added = await call("add", { a: 2, b: 3 });
    await waitUntil(() => seen.logs.length >= 1);
    const progress = [];
    const slow = firstText(await call("slow", { seconds: 0.2 }, {
      onprogress: ({ progress: done, total }) => progress.push([done, total ?? null]),
    }));
    const config = (await client.readResource({ uri: "config://app" }, options)).contents[0];
    const note = (await client.readResource({ uri: "notes://welcome" }, options)).contents[0];
    const review = await client.getPrompt({ name: "review", arguments: { code: "x = 1" } }, options);
    const sampled = firstText(await call("ask_model", { question: QUESTION }));
    const signedUp = firstText(await call("sign_up"));
    const connected = firstText(await call("connect_account"));
    await waitUntil(() => seen.completed.length >= 1);
    const roots = await call("roots");
    return {
      client: "ts",
      protocol_version: transport.protocolVersion ?? null,
      session: transport.sessionId !== undefined,
      server_name: info?.name ?? null,
      tools,
      add: { structured: added.structuredContent ?? null, logs: seen.logs },
      slow: { text: slow, progress },
      config: { text: config.text, mime_type: config.mimeType ?? null },
      note: note.text,
      review: review.messages.map((m) => [m.role, m.content.text ?? null]),
      sampling: { requests: seen.sampling, result: sampled },
      form: { requests: seen.forms, result: signedUp },
      url: { requests: seen.urls, result: connected, completed: seen.completed },
      roots: roots.structuredContent ?? null,
    };
  } finally {
    // DELETE ends the session on the server, as a well-behaved client does.
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

await runPeerClient("http_server_ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
