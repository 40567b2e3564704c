// List and call a compose server's tools with the TypeScript SDK v2's client; print a summary.
//
// Usage: node ts_compose_client.mjs MODE CALLS URL
//        node ts_compose_client.mjs MODE CALLS COMMAND [ARG...]
//
// MODE is the client's `versionNegotiation.mode`: `default` (none given: the SDK's default,
// the initialize handshake) or `auto` (probe `server/discover`, take 2026-07-28 where
// offered). CALLS is a JSON list of `[tool, arguments]`, called in order. The summary is
// official_compose_client.py's (see README.md); a call the SDK refuses (its check of
// `structuredContent` against the tool's `outputSchema` throws) is summarized with its error.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { runPeerClient } from "./peer_main.mjs";

const OVERALL_TIMEOUT_MS = 25_000; // below the test's own bound so the failure is reported here
const REQUEST_TIMEOUT_MS = 10_000;
const LISTED = ["inputSchema", "outputSchema", "_meta"]; // what the summary keeps of each tool

function callSummary(result) {
  const text = result.content?.find((b) => b.type === "text")?.text ?? null;
  return {
    is_error: Boolean(result.isError),
    text,
    structured: result.structuredContent ?? null,
    _meta: result._meta ?? null,
    error: null,
  };
}

async function summarize([mode, callsJson, ...target]) {
  const transport = target[0].startsWith("http")
    ? new StreamableHTTPClientTransport(new URL(target[0]))
    : new StdioClientTransport({ command: target[0], args: target.slice(1), env: process.env });
  const client = new Client(
    { name: "ts-compose-client", version: "1.0.0" },
    mode === "default" ? {} : { versionNegotiation: { mode } },
  );
  const options = { timeout: REQUEST_TIMEOUT_MS };
  await client.connect(transport, options);
  try {
    const listed = (await client.listTools(undefined, options)).tools;
    const calls = [];
    for (const [name, args] of JSON.parse(callsJson)) {
      try {
        calls.push(callSummary(await client.callTool({ name, arguments: args }, options)));
      } catch (error) {
        // the SDK's refusal of an answer is what the test judges
        calls.push({ error: `${error?.name}: ${error?.message}` });
      }
    }
    const tools = {};
    for (const tool of listed) {
      tools[tool.name] = Object.fromEntries(LISTED.filter((k) => k in tool).map((k) => [k, tool[k]]));
    }
    return {
      client: "ts",
      mode,
      protocol_version: client.getNegotiatedProtocolVersion() ?? null,
      server_name: client.getServerVersion()?.name ?? null,
      tools,
      calls,
    };
  } finally {
    await client.close();
  }
}

await runPeerClient("ts_compose_client.mjs", summarize, OVERALL_TIMEOUT_MS);
