// Drive an MCP server over stdio with the TypeScript SDK's client and print a summary.
//
// Usage: node ts_client.mjs COMMAND [ARG...]
//
// The server command is started as a subprocess with this process's environment. The client
// initializes, lists everything, calls `add`, `echo` and `slow` (with a progress callback),
// reads `config://app` and `users://42/profile`, gets prompt `review` and pings. It prints one
// JSON object (the shape shared with official_client.py, see README.md) and exits 0; on any
// failure it prints the error to stderr and exits 1.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;
const SLOW_STEPS = 3;
const ECHO_TEXT = "hello interop";
const REVIEW_CODE = "x = 1";

const firstText = (result) => result.content?.find((block) => block.type === "text")?.text ?? null;

// Record, straight off the transport, the progress notifications that carry the token of a
// `slow` call. The SDK's own `onprogress` can miss those that arrive in the same read as the
// response (typescript-sdk issue #2580), so both views go into the summary.
function tapSlowProgress(transport) {
  const seen = [];
  const tokens = new Set();
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (message.method === "tools/call" && message.params?.name === "slow") {
      tokens.add(message.params._meta?.progressToken);
    }
    return send(message, options);
  };
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === "notifications/progress" && tokens.has(message.params?.progressToken)) {
      seen.push([message.params.progress, message.params.total ?? null]);
    }
    receive(message, extra);
  };
  return seen;
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
  const client = new Client({ name: "ts-interop-client", version: "1.0.0" });
  const options = { timeout: REQUEST_TIMEOUT_MS };
  await client.connect(transport, options);
  const progressOnWire = tapSlowProgress(transport);
  try {
    const info = client.getServerVersion();
    const tools = Object.fromEntries((await client.listTools({}, options)).tools.map((t) => [t.name, t]));
    const add = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }, undefined, options);
    const echo = await client.callTool({ name: "echo", arguments: { text: ECHO_TEXT } }, undefined, options);
    const progress = [];
    const slow = await client.callTool({ name: "slow", arguments: { steps: SLOW_STEPS } }, undefined, {
      ...options,
      onprogress: ({ progress: value, total }) => progress.push([value, total ?? null]),
    });
    const resources = (await client.listResources({}, options)).resources.map((r) => r.uri);
    const templates = (await client.listResourceTemplates({}, options)).resourceTemplates.map(
      (t) => t.uriTemplate,
    );
    const prompts = (await client.listPrompts({}, options)).prompts.map((p) => p.name);
    const config = (await client.readResource({ uri: "config://app" }, options)).contents[0];
    const profile = (await client.readResource({ uri: "users://42/profile" }, options)).contents[0];
    const review = await client.getPrompt({ name: "review", arguments: { code: REVIEW_CODE } }, options);
    await client.ping(options);
    return {
      client: "ts",
      protocol_version: protocolVersion,
      server_name: info?.name ?? null,
      server_version: info?.version ?? null,
      instructions: client.getInstructions() ?? null,
      tools: Object.keys(tools).sort(),
      add_input_schema: tools.add?.inputSchema ?? null,
      add_output_schema: tools.add?.outputSchema ?? null,
      add: { structured: add.structuredContent ?? null, text: firstText(add), is_error: add.isError ?? false },
      echo: { text: firstText(echo) },
      slow: { text: firstText(slow), progress, progress_on_wire: progressOnWire },
      resources: resources.sort(),
      templates: templates.sort(),
      prompts: prompts.sort(),
      config: { text: config.text ?? null, mime_type: config.mimeType ?? null },
      profile: { text: profile.text ?? null },
      review: { messages: review.messages.map((m) => ({ role: m.role, text: m.content.text ?? null })) },
      ping: true,
    };
  } finally {
    await client.close();
  }
}

await runPeerClient("ts_client.mjs", summarize, OVERALL_TIMEOUT_MS);
